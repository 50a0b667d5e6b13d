package dev.pricer.cuda;

import dev.pricer.core.backend.Buffer;
import dev.pricer.core.tensor.DType;

/**
 * Device memory behind a {@link Buffer}. {@link #dtype()} is what the model sees (F32 or I32); {@link #storage()}
 * is how the elements sit on the GPU, which in bf16 precision is BF16 for frozen weight matrices. Slices share
 * the allocation, which is freed once neither the buffer nor any slice of it is reachable.
 */
public final class CudaBuffer implements Buffer {

    private final DType dtype;
    private final DType storage;
    private final DeviceBuffer memory;
    private final Object allocation;

    CudaBuffer(DType dtype, DType storage, DeviceBuffer memory, Object allocation) {
        this.dtype = dtype;
        this.storage = storage;
        this.memory = memory;
        this.allocation = allocation;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    public DType storage() {
        return storage;
    }

    DeviceBuffer memory() {
        return memory;
    }

    @Override
    public long length() {
        return memory.bytes() / storage.byteSize();
    }

    @Override
    public CudaBuffer slice(long offset, long length) {
        return new CudaBuffer(dtype, storage, memory.slice(offset * storage.byteSize(), length * storage.byteSize()), allocation);
    }

    @Override
    public String toString() {
        return "CudaBuffer[" + length() + " " + dtype + (storage != dtype ? " stored as " + storage : "") + "]";
    }
}
