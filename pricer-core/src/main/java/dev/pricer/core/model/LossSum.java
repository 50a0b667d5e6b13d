package dev.pricer.core.model;

/** Summed cross-entropy and the number of label tokens it sums over, so callers can normalise across micro-batches. */
public record LossSum(double sum, long tokens) {

    public static final LossSum ZERO = new LossSum(0, 0);

    public double mean() {
        return tokens == 0 ? Double.NaN : sum / tokens;
    }

    public LossSum plus(LossSum other) {
        return new LossSum(sum + other.sum, tokens + other.tokens);
    }
}
