package dev.pricer.train.loop;

import java.io.Serial;

/** The loss or the gradient norm stopped being a finite number; the parameters were left as before the step. */
public final class TrainingDivergedException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    public TrainingDivergedException(String message) {
        super(message);
    }
}
