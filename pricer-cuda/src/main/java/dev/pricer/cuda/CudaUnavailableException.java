package dev.pricer.cuda;

/**
 * No usable GPU here: the driver, a CUDA library or the device itself is missing. The message names what
 * is missing and where it was looked for, so the caller can fall back to the CPU backend and say why.
 */
public final class CudaUnavailableException extends RuntimeException {
    public CudaUnavailableException(String message) {
        super(message);
    }

    public CudaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
