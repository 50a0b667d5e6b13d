package dev.pricer.core.backend;

import dev.pricer.core.tensor.DType;

/**
 * Memory owned by a {@link Backend}: host memory for the CPU, device memory for a GPU. The model never reads
 * or writes a buffer's elements itself; it passes buffers to kernels and copies to or from the host explicitly.
 * A slice shares memory with its parent (on CUDA: the same allocation at an offset).
 */
public interface Buffer {

    /** F32 for activations, weights and gradients; I32 for token ids, positions and lengths. */
    DType dtype();

    /** Number of elements. */
    long length();

    /** Elements {@code [offset, offset + length)} of this buffer, sharing its memory. */
    Buffer slice(long offset, long length);
}
