package dev.pricer.cuda;

import dev.pricer.core.backend.Buffer;
import dev.pricer.core.tensor.DType;

/**
 * Device memory behind a {@link Buffer}. {@link #dtype()} is what the model sees (F32 or I32); {@link #storage()}
 * is how the elements sit on the GPU, which in bf16 precision is BF16 for frozen weight matrices (read-only) and
 * for the activations a training pass keeps. Slices share the allocation, which is freed once neither the buffer
 * nor any slice of it is reachable.
 */
public final class CudaBuffer implements Buffer {

    private final DType dtype;
    private final DType storage;
    private final DeviceBuffer memory;
    private final boolean frozen;
    private final Allocation allocation;

    /**
     * The memory a buffer and its slices share, and how many times the backend has written any of it: a bf16
     * copy made at one count is stale at the next ({@link Bf16Copies}).
     */
    static final class Allocation {
        private long writes;

        void written() {
            writes++;
        }

        long writes() {
            return writes;
        }
    }

    CudaBuffer(DType dtype, DType storage, DeviceBuffer memory, boolean frozen, Allocation allocation) {
        this.dtype = dtype;
        this.storage = storage;
        this.memory = memory;
        this.frozen = frozen;
        this.allocation = allocation;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    public DType storage() {
        return storage;
    }

    /** A frozen weight kept in bf16, which no kernel may write. */
    boolean frozen() {
        return frozen;
    }

    /** The element type of the memory, for the kernels. */
    ElementType type() {
        return storage == DType.BF16 ? ElementType.BF16 : ElementType.F32;
    }

    DeviceBuffer memory() {
        return memory;
    }

    Allocation allocation() {
        return allocation;
    }

    @Override
    public long length() {
        return memory.bytes() / storage.byteSize();
    }

    @Override
    public CudaBuffer slice(long offset, long length) {
        return new CudaBuffer(dtype, storage, memory.slice(offset * storage.byteSize(), length * storage.byteSize()), frozen, allocation);
    }

    @Override
    public String toString() {
        return "CudaBuffer[" + length() + " " + dtype + (storage != dtype ? " stored as " + storage : "") + (frozen ? ", frozen" : "") + "]";
    }
}
