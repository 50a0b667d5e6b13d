package dev.pricer.core.backend.cpu;

import dev.pricer.core.backend.Buffer;
import dev.pricer.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/** A CPU buffer: a memory segment of {@code length} elements of {@code dtype}, in native byte order. */
public record CpuBuffer(DType dtype, MemorySegment segment) implements Buffer {

    public CpuBuffer {
        if (segment.byteSize() % dtype.byteSize() != 0) throw new IllegalArgumentException("segment is not a whole number of " + dtype);
    }

    @Override
    public long length() {
        return segment.byteSize() / dtype.byteSize();
    }

    @Override
    public CpuBuffer slice(long offset, long length) {
        return new CpuBuffer(dtype, segment.asSlice(offset * dtype.byteSize(), length * dtype.byteSize()));
    }

    /** The segment behind a buffer that must have come from the CPU backend. */
    static MemorySegment of(Buffer buffer) {
        if (buffer instanceof CpuBuffer cpu) return cpu.segment;
        throw new IllegalArgumentException("not a CPU buffer: " + buffer.getClass().getName());
    }
}
