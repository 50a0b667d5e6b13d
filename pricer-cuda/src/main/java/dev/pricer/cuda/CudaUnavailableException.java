package dev.pricer.cuda;

/**
 * No usable GPU here: the driver, a CUDA library or the device itself is missing. The message names what
 * is missing and where it was looked for, so the caller can fall back to the CPU backend and say why; the
 * summary says what is missing in one line, for the note printed on every fallback.
 */
public final class CudaUnavailableException extends RuntimeException {
    private final String summary;

    public CudaUnavailableException(String message) {
        this(message, message, null);
    }

    public CudaUnavailableException(String message, Throwable cause) {
        this(message, message, cause);
    }

    public CudaUnavailableException(String summary, String message, Throwable cause) {
        super(message, cause);
        this.summary = summary;
    }

    public String summary() {
        return summary;
    }
}
