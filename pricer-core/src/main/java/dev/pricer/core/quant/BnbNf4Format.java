package dev.pricer.core.quant;

import dev.pricer.core.FormatException;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The safetensors keys bitsandbytes saves for a 4-bit weight named {@code name} (e.g.
 * {@code model.layers.0.self_attn.q_proj.weight}): the packed codes under {@code name} itself, then
 * {@code name.absmax}, {@code name.quant_map}, with double quantization {@code name.nested_absmax} and
 * {@code name.nested_quant_map}, and {@code name.quant_state.bitsandbytes__nf4}, the JSON of the rest.
 */
public final class BnbNf4Format {

    public static final String ABSMAX = ".absmax";
    public static final String QUANT_MAP = ".quant_map";
    public static final String NESTED_ABSMAX = ".nested_absmax";
    public static final String NESTED_QUANT_MAP = ".nested_quant_map";
    public static final String QUANT_STATE = ".quant_state.bitsandbytes__nf4";
    private static final String OTHER_QUANT_STATE = ".quant_state.bitsandbytes__fp4";

    private BnbNf4Format() {
    }

    /** Whether {@code name} is stored 4-bit quantized (NF4 or another bitsandbytes type) in {@code file}. */
    public static boolean isQuantized(SafeTensors file, String name) {
        return file.contains(name + QUANT_STATE) || file.contains(name + OTHER_QUANT_STATE);
    }

    /** The tensors of one weight, in bitsandbytes' order, ready for {@code SafeTensorsWriter}. */
    public static Map<String, HostTensor> tensors(String name, Nf4Weight w) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        out.put(name, new HostTensor(DType.U8, new long[]{w.packed().byteSize(), 1}, w.packed()));
        switch (w.scales()) {
            case BlockScales.Plain p -> {
                out.put(name + ABSMAX, HostTensor.ofFloats(p.absmax(), p.absmax().length));
                out.put(name + QUANT_MAP, HostTensor.ofFloats(Nf4.codebook(), 16));
            }
            case BlockScales.DoubleQuantized d -> {
                out.put(name + ABSMAX, new HostTensor(DType.U8, new long[]{d.codes().length}, MemorySegment.ofArray(d.codes().clone())));
                out.put(name + QUANT_MAP, HostTensor.ofFloats(Nf4.codebook(), 16));
                out.put(name + NESTED_ABSMAX, HostTensor.ofFloats(d.nestedAbsmax(), d.nestedAbsmax().length));
                out.put(name + NESTED_QUANT_MAP, HostTensor.ofFloats(d.nestedMap(), d.nestedMap().length));
            }
        }
        byte[] json = QuantState.of(w).toJson();
        out.put(name + QUANT_STATE, new HostTensor(DType.U8, new long[]{json.length}, MemorySegment.ofArray(json)));
        return out;
    }

    /**
     * Reads the weight {@code name} from {@code file}. The packed codes stay a view of the file (valid while it
     * is open); the small per-block tensors are copied. Every size is checked against the quant state's shape.
     */
    public static Nf4Weight read(SafeTensors file, String name) {
        String where = file.describe() + ": tensor '" + name + "'";
        if (file.contains(name + OTHER_QUANT_STATE)) throw new FormatException(where + " is bitsandbytes fp4; only nf4 is supported");
        HostTensor stateTensor = expect(file, name + QUANT_STATE, DType.U8, where);
        byte[] json = stateTensor.data().toArray(ValueLayout.JAVA_BYTE);
        QuantState state = QuantState.parse(json, file.describe() + ": tensor '" + name + QUANT_STATE + "'");
        long n = elementCount(state.shape(), where);
        int blocks = Math.toIntExact((n + state.blockSize() - 1) / state.blockSize());

        HostTensor packed = expect(file, name, DType.U8, where);
        checkCount(packed, (n + 1) / 2, where + " (packed codes of shape " + Arrays.toString(state.shape()) + ")");
        float[] quantMap = expect(file, name + QUANT_MAP, DType.F32, where).toFloatArray();
        if (!Arrays.equals(quantMap, Nf4.codebook())) {
            throw new FormatException(key(file, name + QUANT_MAP) + ": not the NF4 codebook: " + Arrays.toString(quantMap));
        }
        HostTensor absmax = expect(file, name + ABSMAX, state.nested() ? DType.U8 : DType.F32, where);
        checkCount(absmax, blocks, key(file, name + ABSMAX) + " (one per block of " + state.blockSize() + ", quant state field 'blocksize')");
        BlockScales scales;
        if (state.nested()) {
            int nestedBlocks = (blocks + state.nestedBlockSize() - 1) / state.nestedBlockSize();
            HostTensor nestedAbsmax = expect(file, name + NESTED_ABSMAX, DType.F32, where);
            checkCount(nestedAbsmax, nestedBlocks, key(file, name + NESTED_ABSMAX));
            HostTensor nestedMap = expect(file, name + NESTED_QUANT_MAP, DType.F32, where);
            checkCount(nestedMap, DynamicMap.SIZE, key(file, name + NESTED_QUANT_MAP));
            float[] nestedAbsmaxValues = finite(nestedAbsmax.toFloatArray(), key(file, name + NESTED_ABSMAX));
            float[] nestedMapValues = finite(nestedMap.toFloatArray(), key(file, name + NESTED_QUANT_MAP));
            scales = new BlockScales.DoubleQuantized(absmax.data().toArray(ValueLayout.JAVA_BYTE), nestedAbsmaxValues,
                    nestedMapValues, state.nestedBlockSize(), state.nestedOffset());
        } else {
            scales = new BlockScales.Plain(finite(absmax.toFloatArray(), key(file, name + ABSMAX)));
        }
        return new Nf4Weight(state.shape(), state.dtype(), state.blockSize(), packed.data(), scales);
    }

    private static String key(SafeTensors file, String key) {
        return file.describe() + ": tensor '" + key + "'";
    }

    private static HostTensor expect(SafeTensors file, String key, DType dtype, String where) {
        if (!file.contains(key)) throw new FormatException(where + ": missing tensor '" + key + "' of its NF4 quant state");
        HostTensor t = file.tensor(key);
        if (t.dtype() != dtype) throw new FormatException(file.describe() + ": tensor '" + key + "' has dtype " + t.dtype() + ", expected " + dtype);
        return t;
    }

    private static void checkCount(HostTensor t, long expected, String what) {
        if (t.elementCount() != expected) {
            throw new FormatException(what + ": holds " + t.elementCount() + " elements, the quant state's shape needs " + expected);
        }
    }

    private static long elementCount(long[] shape, String where) {
        try {
            return Nf4Weight.elementCount(shape);
        } catch (ArithmeticException e) {
            throw new FormatException(where + ": quant state shape " + Arrays.toString(shape) + " is too large");
        }
    }

    private static float[] finite(float[] values, String what) {
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) throw new FormatException(what + ": element " + i + " is " + values[i]);
        }
        return values;
    }
}
