package dev.pricer.core.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bit-exact checks against bitsandbytes' published constants and against {@code nf4-vectors.json}, which
 * {@code make_nf4_vectors.py} (an independent numpy implementation of the same formulas) wrote.
 */
class Nf4QuantizerTest {

    private static JsonNode vectors;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = Nf4QuantizerTest.class.getResourceAsStream("/quant/nf4-vectors.json")) {
            vectors = new ObjectMapper().readTree(in);
        }
    }

    @Test
    void runsOfScalesAreEachBlocksScaleBitForBit() {
        float[] absmax = new float[700];
        java.util.Random random = new java.util.Random(5);
        for (int i = 0; i < absmax.length; i++) absmax[i] = random.nextFloat() * 0.1f;
        for (BlockScales scales : new BlockScales[]{new BlockScales.Plain(absmax), Nf4Quantizer.doubleQuantize(absmax)}) {
            // Runs from the start, across nested blocks of 256, and ending at the last block.
            for (int[] run : new int[][]{{0, 700}, {255, 2}, {250, 300}, {256, 1}, {600, 100}}) {
                float[] out = new float[run[1]];
                scales.scales(run[0], run[1], out);
                for (int i = 0; i < run[1]; i++) {
                    assertEquals(Float.floatToIntBits(scales.scale(run[0] + i)), Float.floatToIntBits(out[i]),
                            scales.getClass().getSimpleName() + " block " + (run[0] + i));
                }
            }
        }
    }

    @Test
    void codebookIsBitsandbytesNf4() {
        float[] expected = {-1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
                -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
                0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
                0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};
        assertArrayEquals(expected, Nf4.codebook());
    }

    @Test
    void thresholdsAreThoseOfTheCudaKernelTree() {
        // The literals of dQuantizeNF4 in bitsandbytes' CUDA source, in ascending order.
        float[] cuda = {-0.8480964004993439f, -0.6106329262256622f, -0.4599952697753906f, -0.33967943489551544f,
                -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
                0.1202552504837513f, 0.2035212516784668f, 0.2920137718319893f, 0.3893125355243683f,
                0.5016634166240692f, 0.6427869200706482f, 0.8614784181118011f};
        assertArrayEquals(cuda, Nf4.thresholds());
        assertArrayEquals(cuda, floats(vectors.get("thresholds")));
    }

    @Test
    void encodeTakesTheLowerCodeOnAThresholdAndZeroForNaN() {
        float[] t = Nf4.thresholds();
        for (int i = 0; i < t.length; i++) {
            assertEquals(i, Nf4.encode(t[i]), "on threshold " + i);
            assertEquals(i + 1, Nf4.encode(Math.nextUp(t[i])), "just above threshold " + i);
        }
        assertEquals(0, Nf4.encode(Float.NaN));
        assertEquals(7, Nf4.encode(0f));
        assertEquals(7, Nf4.encode(-0f));
        assertEquals(0, Nf4.encode(-5f));
        assertEquals(15, Nf4.encode(5f));
    }

    @Test
    void firstElementGoesInTheHighNibble() {
        // -1 is code 0, 1 is code 15, 0 is code 7: [ -1, 1, 1, 0, 0.5 ] in one block of absmax 1.
        float[] values = {-1f, 1f, 1f, 0f, 0.5f};
        Nf4Weight w = Nf4Quantizer.quantize(MemorySegment.ofArray(values), new long[]{5}, "float32", false);
        byte[] packed = w.packed().toArray(ValueLayout.JAVA_BYTE);
        assertArrayEquals(new byte[]{(byte) 0x0F, (byte) 0xF7, (byte) 0xC7}, packed);
        assertEquals(0, w.code(0));
        assertEquals(15, w.code(1));
        assertEquals(12, w.code(4));
    }

    @Test
    void quantizationMatchesTheReferenceVectors() {
        for (JsonNode c : vectors.get("cases")) {
            String name = c.get("name").asText();
            Nf4Weight plain = quantize(c, false);
            assertArrayEquals(bytes(c.get("packed")), plain.packed().toArray(ValueLayout.JAVA_BYTE), name + " packed");
            assertArrayEquals(floats(c.get("absmax")), ((BlockScales.Plain) plain.scales()).absmax(), name + " absmax");
            assertBitsEqual(floats(c.get("dequantized")), plain.dequantize(), name + " dequantized");
        }
    }

    @Test
    void doubleQuantizationAndOffsetMatchTheReferenceVectors() {
        for (JsonNode c : vectors.get("cases")) {
            String name = c.get("name").asText();
            Nf4Weight dq = quantize(c, true);
            var scales = (BlockScales.DoubleQuantized) dq.scales();
            assertEquals(Float.intBitsToFloat(c.get("nested_offset").asInt()), scales.offset(), name + " offset");
            assertArrayEquals(bytes(c.get("quantized_absmax")), scales.codes(), name + " 8-bit absmax");
            assertArrayEquals(floats(c.get("nested_absmax")), scales.nestedAbsmax(), name + " nested absmax");
            assertEquals(Nf4Quantizer.NESTED_BLOCK_SIZE, scales.nestedBlockSize());
            assertArrayEquals(bytes(c.get("packed")), dq.packed().toArray(ValueLayout.JAVA_BYTE), name + " packed");
            assertBitsEqual(floats(c.get("dequantized_double")), dq.dequantize(), name + " dequantized");
        }
    }

    @Test
    void nestedCaseReallyHasSeveralNestedBlocks() {
        JsonNode c = vectors.get("cases").get(2);
        assertTrue(c.get("nested_absmax").size() > 1);
        assertTrue(c.get("input").size() % 2 == 0 && vectors.get("cases").get(1).get("input").size() % 2 == 1);
    }

    @Test
    void dequantizedValuesAreCloseToTheInput() {
        JsonNode c = vectors.get("cases").get(2);
        float[] input = floats(c.get("input"));
        float[] out = quantize(c, true).dequantize();
        for (int i = 0; i < input.length; i++) {
            // Half the widest NF4 gap (0.3038 of absmax; absmax < 0.2 here) bounds the error.
            assertEquals(input[i], out[i], 0.035f, "element " + i);
        }
    }

    @Test
    void halfPrecisionWeightsQuantizeAsTheirFloat32Values() {
        float[] values = floats(vectors.get("cases").get(1).get("input"));
        short[] bf16 = new short[values.length];
        float[] widened = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            bf16[i] = (short) (Float.floatToRawIntBits(values[i]) >>> 16);
            widened[i] = Float.intBitsToFloat(bf16[i] << 16);
        }
        HostTensor tensor = new HostTensor(DType.BF16, new long[]{7, 29}, MemorySegment.ofArray(bf16));
        Nf4Weight fromBf16 = Nf4Quantizer.quantize(tensor, true);
        Nf4Weight fromF32 = Nf4Quantizer.quantize(MemorySegment.ofArray(widened), new long[]{7, 29}, "bfloat16", true);
        assertEquals("bfloat16", fromBf16.dtype());
        assertArrayEquals(fromF32.packed().toArray(ValueLayout.JAVA_BYTE), fromBf16.packed().toArray(ValueLayout.JAVA_BYTE));
        assertArrayEquals(fromF32.dequantize(), fromBf16.dequantize());
        assertEquals("float32", Nf4Quantizer.quantize(HostTensor.ofFloats(values, 7, 29), false).dtype());
        var e = assertThrows(IllegalArgumentException.class, () -> Nf4Quantizer.quantize(HostTensor.ofInts(new int[64], 64), false));
        assertTrue(e.getMessage().contains("I32"), e.getMessage());
    }

    @Test
    void rejectsNonFiniteValuesAndWrongSizes() {
        float[] values = new float[70];
        values[65] = Float.NaN;
        var e = assertThrows(IllegalArgumentException.class,
                () -> Nf4Quantizer.quantize(MemorySegment.ofArray(values), new long[]{70}, "float32", true));
        assertTrue(e.getMessage().contains("element 65"), e.getMessage());
        values[65] = Float.POSITIVE_INFINITY;
        assertThrows(IllegalArgumentException.class,
                () -> Nf4Quantizer.quantize(MemorySegment.ofArray(values), new long[]{70}, "float32", false));
        assertThrows(IllegalArgumentException.class,
                () -> Nf4Quantizer.quantize(MemorySegment.ofArray(new float[10]), new long[]{2, 6}, "float32", false));
    }

    private static Nf4Weight quantize(JsonNode c, boolean doubleQuant) {
        long[] shape = new long[c.get("shape").size()];
        for (int i = 0; i < shape.length; i++) shape[i] = c.get("shape").get(i).asLong();
        return Nf4Quantizer.quantize(MemorySegment.ofArray(floats(c.get("input"))), shape, "float32", doubleQuant);
    }

    static float[] floats(JsonNode bits) {
        float[] out = new float[bits.size()];
        for (int i = 0; i < out.length; i++) out[i] = Float.intBitsToFloat((int) bits.get(i).asLong());
        return out;
    }

    static byte[] bytes(JsonNode values) {
        byte[] out = new byte[values.size()];
        for (int i = 0; i < out.length; i++) out[i] = (byte) values.get(i).asInt();
        return out;
    }

    private static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    what + " element " + i + ": " + expected[i] + " vs " + actual[i]);
        }
    }
}
