package dev.pricer.eval.tester;

/** One item of a test: its truth, the guess, the absolute error, the squared log error and the colour. */
public record Scored(String title, double truth, double guess, boolean miss, double error, double squaredLogError,
                     Colour colour) {

    public static Scored of(String title, double truth, double guess, boolean miss) {
        double error = Math.abs(guess - truth);
        // Negative guesses (a regression can make them) count as 0 in the log, as prices cannot be negative.
        double logError = Math.log1p(Math.max(0, guess)) - Math.log1p(truth);
        return new Scored(title, truth, guess, miss, error, logError * logError, Colour.of(error, truth));
    }
}
