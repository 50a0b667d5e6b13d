package dev.pricer.eval.predict;

/**
 * One estimated price. A model output that is not a number is a {@code miss}: its price is 0, as the course
 * counted it, and reports count the misses.
 */
public record Guess(double price, boolean miss) {

    public static final Guess MISS = new Guess(0, true);

    public static Guess of(double price) {
        return new Guess(price, false);
    }
}
