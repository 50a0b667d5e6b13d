package dev.pricer.cuda;

/** A CUDA, NVRTC or cuBLASLt call failed on a machine where the libraries and the GPU were found. */
public final class CudaException extends RuntimeException {
    public CudaException(String message) {
        super(message);
    }
}
