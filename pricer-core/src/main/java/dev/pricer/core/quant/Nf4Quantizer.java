package dev.pricer.core.quant;

import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.stream.IntStream;

/** Quantizes float32 weights to NF4 exactly as bitsandbytes' {@code quantize_4bit} does on the GPU. */
public final class Nf4Quantizer {

    /** Blocks of absmax values per 8-bit absmax in double quantization (bitsandbytes' fixed choice). */
    public static final int NESTED_BLOCK_SIZE = 256;

    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.nativeOrder());
    private static final float[] DYNAMIC = DynamicMap.signed();

    private Nf4Quantizer() {
    }

    /**
     * Quantizes a weight as loaded (F32, BF16 or F16, e.g. a view of a mapped checkpoint), recording its dtype
     * under bitsandbytes' name. Half-precision values widen to float32 exactly, as bitsandbytes' kernel reads them.
     */
    public static Nf4Weight quantize(HostTensor tensor, boolean doubleQuant) {
        String dtype = switch (tensor.dtype()) {
            case F32 -> "float32";
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> throw new IllegalArgumentException("cannot quantize a weight of dtype " + tensor.dtype() + " to NF4");
        };
        MemorySegment values = tensor.dtype() == DType.F32 ? tensor.data() : MemorySegment.ofArray(tensor.toFloatArray());
        return quantize(values, tensor.shape(), dtype, doubleQuant);
    }

    /**
     * Quantizes row-major float32 {@code values} (native byte order) of {@code shape}. {@code dtype} names the
     * weight's original dtype for the checkpoint; {@code doubleQuant} compresses the absmax values as QLoRA does.
     */
    public static Nf4Weight quantize(MemorySegment values, long[] shape, String dtype, boolean doubleQuant) {
        long n = Nf4Weight.elementCount(shape);
        if (values.byteSize() != n * Float.BYTES) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + n * Float.BYTES
                    + " bytes of float32, got " + values.byteSize());
        }
        long blockCount = (n + Nf4.BLOCK_SIZE - 1) / Nf4.BLOCK_SIZE;
        if (blockCount > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("weight of " + n + " elements has too many blocks");
        int blocks = (int) blockCount;
        float[] absmax = new float[blocks];
        MemorySegment packed = Arena.ofAuto().allocate((n + 1) / 2);
        IntStream.range(0, blocks).parallel().forEach(b -> absmax[b] = quantizeBlock(values, n, b, packed));
        BlockScales scales = doubleQuant ? doubleQuantize(absmax) : new BlockScales.Plain(absmax);
        return new Nf4Weight(shape, dtype, Nf4.BLOCK_SIZE, packed, scales);
    }

    /** Quantizes one block into {@code packed} and returns its absmax. */
    private static float quantizeBlock(MemorySegment values, long n, int block, MemorySegment packed) {
        long start = (long) block * Nf4.BLOCK_SIZE, end = Math.min(n, start + Nf4.BLOCK_SIZE);
        float absmax = 0f;
        for (long i = start; i < end; i++) {
            float v = values.get(FLOAT, i * Float.BYTES);
            if (!Float.isFinite(v)) throw new IllegalArgumentException("cannot quantize a non-finite value: element " + i + " is " + v);
            absmax = Math.max(absmax, Math.abs(v));
        }
        // bitsandbytes multiplies by the float reciprocal rather than dividing; the codes depend on it.
        float inverse = 1f / absmax;
        for (long i = start; i < end; i += 2) {
            int hi = Nf4.encode(values.get(FLOAT, i * Float.BYTES) * inverse);
            // An odd tail is padded with zero, which the kernel scales like any element.
            int lo = Nf4.encode((i + 1 < end ? values.get(FLOAT, (i + 1) * Float.BYTES) : 0f) * inverse);
            packed.set(ValueLayout.JAVA_BYTE, i >>> 1, (byte) (hi << 4 | lo));
        }
        return absmax;
    }

    /**
     * Subtracts the mean absmax (kept as the offset) and quantizes the rest with the dynamic map in blocks of
     * 256. The mean is the float32 rounding of the exact mean; torch's float32 reduction may differ from it in
     * the last bit, which is harmless because the offset travels with the weight.
     */
    static BlockScales.DoubleQuantized doubleQuantize(float[] absmax) {
        double sum = 0;
        for (float a : absmax) sum += a;
        float offset = (float) (sum / absmax.length);
        int nestedBlocks = (absmax.length + NESTED_BLOCK_SIZE - 1) / NESTED_BLOCK_SIZE;
        float[] nestedAbsmax = new float[nestedBlocks];
        byte[] codes = new byte[absmax.length];
        for (int nb = 0; nb < nestedBlocks; nb++) {
            int start = nb * NESTED_BLOCK_SIZE, end = Math.min(absmax.length, start + NESTED_BLOCK_SIZE);
            float max = 0f;
            for (int i = start; i < end; i++) max = Math.max(max, Math.abs(absmax[i] - offset));
            nestedAbsmax[nb] = max;
            float inverse = 1f / max;
            for (int i = start; i < end; i++) codes[i] = (byte) DynamicMap.encode(DYNAMIC, (absmax[i] - offset) * inverse);
        }
        return new BlockScales.DoubleQuantized(codes, nestedAbsmax, DYNAMIC.clone(), NESTED_BLOCK_SIZE, offset);
    }
}
