package dev.pricer.core;

/**
 * A model, adapter or tensor file that cannot be used as it is. The message names the file and the field
 * (or tensor) at fault, so a user can find the problem without a debugger.
 */
public final class FormatException extends RuntimeException {

    public FormatException(String message) {
        super(message);
    }

    public FormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
