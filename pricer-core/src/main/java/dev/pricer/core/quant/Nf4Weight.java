package dev.pricer.core.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A weight in bitsandbytes' NF4 layout: two codes per byte with the first element in the high nibble, one
 * absmax per {@code blockSize} elements of the flattened weight. {@code dtype} is the dtype the weight had
 * before quantization ({@code float32}, {@code bfloat16} or {@code float16}), which bitsandbytes records.
 */
public record Nf4Weight(long[] shape, String dtype, int blockSize, MemorySegment packed, BlockScales scales) {

    public Nf4Weight {
        shape = shape.clone();
        long n = elementCount(shape);
        if (packed.byteSize() != (n + 1) / 2) {
            throw new IllegalArgumentException("NF4 weight of shape " + Arrays.toString(shape) + " needs " + (n + 1) / 2
                    + " packed bytes, got " + packed.byteSize());
        }
        long blocks = (n + blockSize - 1) / blockSize;
        if (scales.blocks() != blocks) {
            throw new IllegalArgumentException("NF4 weight of shape " + Arrays.toString(shape) + " in blocks of " + blockSize
                    + " needs " + blocks + " absmax values, got " + scales.blocks());
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        return elementCount(shape);
    }

    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** The code of element {@code i} of the flattened weight. */
    public int code(long i) {
        int b = packed.get(ValueLayout.JAVA_BYTE, i >>> 1) & 0xFF;
        return (i & 1) == 0 ? b >>> 4 : b & 0xF;
    }

    /** All elements as float32, {@code value(code) * absmax}: for tests and export, never for compute. */
    public float[] dequantize() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException("weight of " + n + " elements is too large for one array");
        float[] out = new float[(int) n];
        for (int i = 0; i < out.length; i++) out[i] = Nf4.value(code(i)) * scales.scale(i / blockSize);
        return out;
    }
}
