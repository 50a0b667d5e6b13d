package dev.pricer.cuda;

/** A range of device memory: its address and length in bytes. Slices share the memory of their parent. */
public record DeviceBuffer(long address, long bytes) {

    public DeviceBuffer {
        if (bytes < 0) throw new IllegalArgumentException("negative length " + bytes);
    }

    public DeviceBuffer slice(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > bytes) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + (offset + length) + ") of a " + bytes + "-byte buffer");
        }
        return new DeviceBuffer(address + offset, length);
    }
}
