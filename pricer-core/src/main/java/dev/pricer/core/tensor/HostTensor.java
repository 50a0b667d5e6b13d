package dev.pricer.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A tensor in host memory: a dtype, a shape and the bytes, little-endian as safetensors stores them.
 * The bytes may be a slice of a memory-mapped file, so a tensor read from disk costs no copy until it is converted.
 */
public record HostTensor(DType dtype, long[] shape, MemorySegment data) {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    public HostTensor {
        shape = shape.clone();
        if (data.byteSize() != elementCount(shape) * dtype.byteSize()) {
            throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape) + " and dtype " + dtype
                    + " needs " + elementCount(shape) * dtype.byteSize() + " bytes, got " + data.byteSize());
        }
    }

    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long elementCount() {
        return elementCount(shape);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public static HostTensor ofFloats(float[] values, long... shape) {
        MemorySegment seg = Arena.ofAuto().allocate((long) values.length * Float.BYTES, 8);
        MemorySegment.copy(values, 0, seg, F32, 0, values.length);
        return new HostTensor(DType.F32, shape, seg);
    }

    public static HostTensor ofInts(int[] values, long... shape) {
        MemorySegment seg = Arena.ofAuto().allocate((long) values.length * Integer.BYTES, 8);
        MemorySegment.copy(values, 0, seg, I32, 0, values.length);
        return new HostTensor(DType.I32, shape, seg);
    }

    public static HostTensor ofLongs(long[] values, long... shape) {
        MemorySegment seg = Arena.ofAuto().allocate((long) values.length * Long.BYTES, 8);
        MemorySegment.copy(values, 0, seg, I64, 0, values.length);
        return new HostTensor(DType.I64, shape, seg);
    }

    public static HostTensor scalar(float value) {
        return ofFloats(new float[]{value}, 1);
    }

    /** Values widened or converted to float32, as torch's {@code .float()} does. */
    public float[] toFloatArray() {
        int n = Math.toIntExact(elementCount());
        float[] out = new float[n];
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32, 0, out, 0, n);
            case F64 -> { for (int i = 0; i < n; i++) out[i] = (float) data.getAtIndex(F64, i); }
            case BF16 -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((data.getAtIndex(I16, i) & 0xffff) << 16); }
            case F16 -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(data.getAtIndex(I16, i)); }
            default -> { long[] ints = toLongArray(); for (int i = 0; i < n; i++) out[i] = ints[i]; }
        }
        return out;
    }

    public double[] toDoubleArray() {
        int n = Math.toIntExact(elementCount());
        double[] out = new double[n];
        if (dtype == DType.F64) {
            MemorySegment.copy(data, F64, 0, out, 0, n);
        } else {
            float[] f = toFloatArray();
            for (int i = 0; i < n; i++) out[i] = f[i];
        }
        return out;
    }

    public long[] toLongArray() {
        int n = Math.toIntExact(elementCount());
        long[] out = new long[n];
        switch (dtype) {
            case I64 -> MemorySegment.copy(data, I64, 0, out, 0, n);
            case I32 -> { for (int i = 0; i < n; i++) out[i] = data.getAtIndex(I32, i); }
            case I16 -> { for (int i = 0; i < n; i++) out[i] = data.getAtIndex(I16, i); }
            case I8, BOOL -> { for (int i = 0; i < n; i++) out[i] = data.get(ValueLayout.JAVA_BYTE, i); }
            case U8 -> { for (int i = 0; i < n; i++) out[i] = data.get(ValueLayout.JAVA_BYTE, i) & 0xff; }
            default -> throw new IllegalStateException("tensor of dtype " + dtype + " holds no integers");
        }
        return out;
    }

    public int[] toIntArray() {
        long[] wide = toLongArray();
        int[] out = new int[wide.length];
        for (int i = 0; i < wide.length; i++) out[i] = Math.toIntExact(wide[i]);
        return out;
    }
}
