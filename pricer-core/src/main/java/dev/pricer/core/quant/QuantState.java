package dev.pricer.core.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.core.FormatException;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The non-tensor fields of a bitsandbytes quant state, which it packs as JSON into the uint8 tensor
 * {@code weight.quant_state.bitsandbytes__nf4}. The nested fields are null without double quantization.
 */
public record QuantState(String quantType, int blockSize, String dtype, long[] shape,
                         Integer nestedBlockSize, String nestedDtype, Float nestedOffset) {

    /** The dtypes bitsandbytes quantizes from, as {@code str(torch.dtype)} without {@code torch.}. */
    public static final List<String> DTYPES = List.of("float32", "bfloat16", "float16");
    private static final List<Integer> BLOCK_SIZES = List.of(64, 128, 256, 512, 1024, 2048, 4096);
    private static final ObjectMapper JSON = new ObjectMapper();

    public QuantState {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public boolean nested() {
        return nestedOffset != null;
    }

    /** The quant state of a weight, as {@code QuantState.as_dict(packed=True)} would write it. */
    static QuantState of(Nf4Weight w) {
        if (w.scales() instanceof BlockScales.DoubleQuantized dq) {
            return new QuantState("nf4", w.blockSize(), w.dtype(), w.shape(), dq.nestedBlockSize(), "float32", dq.offset());
        }
        return new QuantState("nf4", w.blockSize(), w.dtype(), w.shape(), null, null, null);
    }

    /** Byte for byte what Python's {@code json.dumps} makes of bitsandbytes' dict (keys in its order). */
    public byte[] toJson() {
        StringBuilder s = new StringBuilder();
        s.append("{\"quant_type\": \"").append(quantType).append("\", \"blocksize\": ").append(blockSize)
                .append(", \"dtype\": \"").append(dtype).append("\", \"shape\": [");
        for (int i = 0; i < shape.length; i++) s.append(i == 0 ? "" : ", ").append(shape[i]);
        s.append(']');
        if (nested()) {
            s.append(", \"nested_blocksize\": ").append(nestedBlockSize).append(", \"nested_dtype\": \"").append(nestedDtype)
                    .append("\", \"nested_offset\": ").append(pythonRepr(nestedOffset));
        }
        return s.append('}').toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Parses and checks the JSON; {@code where} names the tensor in error messages. */
    public static QuantState parse(byte[] json, String where) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new FormatException(where + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new FormatException(where + ": not a JSON object");
        String quantType = text(root, "quant_type", where);
        if (!quantType.equals("nf4")) throw new FormatException(where + ": field 'quant_type' is '" + quantType + "'; only nf4 is supported");
        int blockSize = integer(root, "blocksize", where);
        if (!BLOCK_SIZES.contains(blockSize)) throw new FormatException(where + ": field 'blocksize' is " + blockSize + ", not one of " + BLOCK_SIZES);
        String dtype = text(root, "dtype", where);
        if (!DTYPES.contains(dtype)) throw new FormatException(where + ": field 'dtype' is '" + dtype + "', not one of " + DTYPES);
        JsonNode shapeNode = root.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) throw new FormatException(where + ": field 'shape' must be a list of sizes");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || d.asLong() < 0) throw new FormatException(where + ": field 'shape' has a bad size " + d);
            shape[i] = d.asLong();
        }
        if (!root.has("nested_offset")) return new QuantState(quantType, blockSize, dtype, shape, null, null, null);
        int nestedBlockSize = integer(root, "nested_blocksize", where);
        if (!BLOCK_SIZES.contains(nestedBlockSize)) {
            throw new FormatException(where + ": field 'nested_blocksize' is " + nestedBlockSize + ", not one of " + BLOCK_SIZES);
        }
        String nestedDtype = text(root, "nested_dtype", where);
        if (!nestedDtype.equals("float32")) throw new FormatException(where + ": field 'nested_dtype' is '" + nestedDtype + "'; expected float32");
        JsonNode offset = root.get("nested_offset");
        if (!offset.isNumber() || !Float.isFinite(offset.floatValue())) {
            throw new FormatException(where + ": field 'nested_offset' must be a finite number, got " + offset);
        }
        return new QuantState(quantType, blockSize, dtype, shape, nestedBlockSize, nestedDtype, (float) offset.doubleValue());
    }

    private static String text(JsonNode root, String field, String where) {
        JsonNode n = root.get(field);
        if (n == null || !n.isTextual()) throw new FormatException(where + ": missing text field '" + field + "'");
        return n.asText();
    }

    private static int integer(JsonNode root, String field, String where) {
        JsonNode n = root.get(field);
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) throw new FormatException(where + ": missing integer field '" + field + "'");
        return n.asInt();
    }

    /**
     * Python's {@code repr(float)}: the shortest digits that read back to the same double (Java's
     * {@code Double.toString} picks the same digits), in fixed notation for decimal exponents -4 … 15 and
     * as {@code 1.5e-05} otherwise.
     */
    static String pythonRepr(double value) {
        if (value == 0) return 1 / value < 0 ? "-0.0" : "0.0";
        BigDecimal shortest = new BigDecimal(Double.toString(Math.abs(value))).stripTrailingZeros();
        String digits = shortest.unscaledValue().toString();
        int point = digits.length() - shortest.scale(); // value = 0.digits × 10^point
        String sign = value < 0 ? "-" : "";
        if (point > -4 && point <= 16) {
            if (point <= 0) return sign + "0." + "0".repeat(-point) + digits;
            if (point >= digits.length()) return sign + digits + "0".repeat(point - digits.length()) + ".0";
            return sign + digits.substring(0, point) + "." + digits.substring(point);
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        int exponent = point - 1;
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (Math.abs(exponent) < 10 ? "0" : "") + Math.abs(exponent);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantState q && quantType.equals(q.quantType) && blockSize == q.blockSize && dtype.equals(q.dtype)
                && Arrays.equals(shape, q.shape) && java.util.Objects.equals(nestedBlockSize, q.nestedBlockSize)
                && java.util.Objects.equals(nestedDtype, q.nestedDtype) && java.util.Objects.equals(nestedOffset, q.nestedOffset);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(quantType, blockSize, dtype, Arrays.hashCode(shape), nestedBlockSize, nestedDtype, nestedOffset);
    }

    @Override
    public String toString() {
        return new String(toJson(), StandardCharsets.UTF_8);
    }
}
