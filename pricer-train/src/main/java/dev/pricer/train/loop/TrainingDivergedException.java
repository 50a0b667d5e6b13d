package dev.pricer.train.loop;

/** The loss or the gradient norm stopped being a finite number; the parameters were left as before the step. */
public final class TrainingDivergedException extends RuntimeException {

    public TrainingDivergedException(String message) {
        super(message);
    }
}
