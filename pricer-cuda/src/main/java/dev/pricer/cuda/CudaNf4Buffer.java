package dev.pricer.cuda;

import dev.pricer.core.backend.Nf4Buffer;

import java.util.Arrays;

/**
 * An NF4 weight {@code [rows, columns]} in device memory, in bitsandbytes' layout: the packed codes, and either
 * one float absmax per block ({@code absmax}) or, with double quantization, one 8-bit code per block
 * ({@code codes}) with the nested absmax, the nested map and the offset. Freed once unreachable.
 */
final class CudaNf4Buffer implements Nf4Buffer {

    final long rows;
    final long columns;
    final int blockSize;
    final DeviceBuffer packed;
    final DeviceBuffer absmax;
    final DeviceBuffer codes;
    final DeviceBuffer nestedAbsmax;
    final DeviceBuffer nestedMap;
    final int nestedBlockSize;
    final float offset;

    CudaNf4Buffer(long rows, long columns, int blockSize, DeviceBuffer packed, DeviceBuffer absmax, DeviceBuffer codes,
                  DeviceBuffer nestedAbsmax, DeviceBuffer nestedMap, int nestedBlockSize, float offset) {
        this.rows = rows;
        this.columns = columns;
        this.blockSize = blockSize;
        this.packed = packed;
        this.absmax = absmax;
        this.codes = codes;
        this.nestedAbsmax = nestedAbsmax;
        this.nestedMap = nestedMap;
        this.nestedBlockSize = nestedBlockSize;
        this.offset = offset;
    }

    @Override
    public long rows() {
        return rows;
    }

    @Override
    public long columns() {
        return columns;
    }

    long elementCount() {
        return rows * columns;
    }

    /** The device memory this weight owns. */
    DeviceBuffer[] memory() {
        return Arrays.stream(new DeviceBuffer[]{packed, absmax, codes, nestedAbsmax, nestedMap}).filter(b -> b != null).toArray(DeviceBuffer[]::new);
    }

    @Override
    public String toString() {
        return "CudaNf4Buffer[" + rows + "×" + columns + ", blocks of " + blockSize + (codes != null ? ", double-quantized" : "") + "]";
    }
}
