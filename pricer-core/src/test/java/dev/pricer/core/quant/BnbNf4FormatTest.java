package dev.pricer.core.quant;

import dev.pricer.core.FormatException;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.safetensors.SafeTensorsWriter;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BnbNf4FormatTest {

    private static final String NAME = "model.layers.0.self_attn.q_proj.weight";

    @TempDir
    Path dir;

    @Test
    void doubleQuantizedWeightRoundTripsBitIdentically() throws IOException {
        roundTrip(true);
    }

    @Test
    void plainWeightRoundTripsBitIdentically() throws IOException {
        roundTrip(false);
    }

    private void roundTrip(boolean doubleQuant) throws IOException {
        // 40×100: 63 blocks, the last one partial.
        Nf4Weight original = weight(new long[]{40, 100}, doubleQuant);
        Path first = dir.resolve("first.safetensors"), second = dir.resolve("second.safetensors");
        SafeTensorsWriter.write(first, BnbNf4Format.tensors(NAME, original), Map.of());
        try (SafeTensors file = SafeTensors.open(first)) {
            assertTrue(BnbNf4Format.isQuantized(file, NAME));
            assertEquals(doubleQuant ? 6 : 4, file.names().size());
            Nf4Weight read = BnbNf4Format.read(file, NAME);
            assertArrayEquals(original.shape(), read.shape());
            assertEquals("bfloat16", read.dtype());
            assertArrayEquals(original.packed().toArray(ValueLayout.JAVA_BYTE), read.packed().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(bits(original.dequantize()), bits(read.dequantize()));
            SafeTensorsWriter.write(second, BnbNf4Format.tensors(NAME, read), Map.of());
        }
        assertEquals(-1, Files.mismatch(first, second), "second write differs from the first");
    }

    @Test
    void severalNestedBlocksSurviveTheRoundTrip() throws IOException {
        Nf4Weight original = weight(new long[]{300, 128}, true);
        var scales = (BlockScales.DoubleQuantized) original.scales();
        assertEquals(3, scales.nestedAbsmax().length);
        Path file = dir.resolve("w.safetensors");
        SafeTensorsWriter.write(file, BnbNf4Format.tensors(NAME, original), Map.of());
        try (SafeTensors st = SafeTensors.open(file)) {
            var read = (BlockScales.DoubleQuantized) BnbNf4Format.read(st, NAME).scales();
            assertArrayEquals(scales.codes(), read.codes());
            assertArrayEquals(scales.nestedAbsmax(), read.nestedAbsmax());
            assertArrayEquals(DynamicMap.signed(), read.nestedMap());
            assertEquals(Float.floatToIntBits(scales.offset()), Float.floatToIntBits(read.offset()));
        }
    }

    @Test
    void quantStateJsonIsWhatPythonJsonDumpsWrites() {
        var state = new QuantState("nf4", 64, "bfloat16", new long[]{4096, 14336}, 256, "float32", 0.012345f);
        assertEquals("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [4096, 14336], "
                + "\"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": 0.01234500017017126}",
                new String(state.toJson(), StandardCharsets.UTF_8));
        var plain = new QuantState("nf4", 64, "float32", new long[]{8, 64}, null, null, null);
        assertEquals("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [8, 64]}",
                new String(plain.toJson(), StandardCharsets.UTF_8));
        assertEquals(state, QuantState.parse(state.toJson(), "t"));
        assertEquals(plain, QuantState.parse(plain.toJson(), "t"));
    }

    @Test
    void floatsPrintAsPythonReprPrintsThem() {
        // repr(float(numpy.float32(v))) in Python for each v
        Map<Float, String> expected = new LinkedHashMap<>();
        expected.put(1e-5f, "9.999999747378752e-06");
        expected.put(1e-4f, "9.999999747378752e-05");
        expected.put(1e16f, "1.0000000272564224e+16");
        expected.put(1e15f, "999999986991104.0");
        expected.put(123f, "123.0");
        expected.put(1.5e-7f, "1.500000053056283e-07");
        expected.put(0.1f, "0.10000000149011612");
        expected.put(2.5f, "2.5");
        expected.put(-0.5f, "-0.5");
        expected.put(0f, "0.0");
        expected.forEach((v, repr) -> assertEquals(repr, QuantState.pythonRepr(v), "repr of " + v));
        assertEquals("1e-05", QuantState.pythonRepr(1e-5));
        assertEquals("0.0001", QuantState.pythonRepr(1e-4));
    }

    @Test
    void parsesTheQuantStateBitsandbytesWrote() {
        String bnb = "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [2048, 8192], "
                + "\"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": 0.031207740306854248}";
        QuantState s = QuantState.parse(bnb.getBytes(StandardCharsets.UTF_8), "t");
        assertArrayEquals(new long[]{2048, 8192}, s.shape());
        assertEquals(256, s.nestedBlockSize());
        assertEquals(0.031207740306854248f, s.nestedOffset());
        assertEquals(bnb, new String(s.toJson(), StandardCharsets.UTF_8));
    }

    @Test
    void badQuantStatesAreRefusedWithTheFieldNamed() {
        assertBadJson("{\"quant_type\": \"fp4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [64]}", "'quant_type' is 'fp4'");
        assertBadJson("{\"quant_type\": \"nf4\", \"blocksize\": 100, \"dtype\": \"float32\", \"shape\": [64]}", "'blocksize' is 100");
        assertBadJson("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"int8\", \"shape\": [64]}", "'dtype' is 'int8'");
        assertBadJson("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [-64]}", "'shape' has a bad size");
        assertBadJson("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float32\"}", "'shape'");
        assertBadJson("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [64], \"nested_offset\": 0.5}",
                "'nested_blocksize'");
        assertBadJson("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float32\", \"shape\": [64], \"nested_blocksize\": 256, "
                + "\"nested_dtype\": \"float32\", \"nested_offset\": \"x\"}", "'nested_offset'");
        assertBadJson("{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"flo", "not valid JSON");
    }

    @Test
    void inconsistentFilesAreRefusedWithTheTensorNamed() {
        assertBadFile(t -> t.put(NAME + BnbNf4Format.QUANT_STATE, json(
                        "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [41, 100], "
                                + "\"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": 0.5}")),
                "packed codes of shape [41, 100]");
        assertBadFile(t -> t.remove(NAME + BnbNf4Format.NESTED_ABSMAX), "missing tensor '" + NAME + ".nested_absmax'");
        assertBadFile(t -> t.put(NAME + BnbNf4Format.ABSMAX, HostTensor.ofFloats(new float[63], 63)), "has dtype F32, expected U8");
        assertBadFile(t -> t.put(NAME + BnbNf4Format.QUANT_MAP, HostTensor.ofFloats(new float[16], 16)), "not the NF4 codebook");
        assertBadFile(t -> {
            float[] nan = {Float.NaN};
            t.put(NAME + BnbNf4Format.NESTED_ABSMAX, HostTensor.ofFloats(nan, 1));
        }, "nested_absmax': element 0 is NaN");
        assertBadFile(t -> t.put(NAME + ".quant_state.bitsandbytes__fp4", t.remove(NAME + BnbNf4Format.QUANT_STATE)), "fp4");
    }

    private void assertBadFile(Consumer<Map<String, HostTensor>> damage, String message) {
        Map<String, HostTensor> tensors = new LinkedHashMap<>(BnbNf4Format.tensors(NAME, weight(new long[]{40, 100}, true)));
        damage.accept(tensors);
        Path file = dir.resolve("bad.safetensors");
        SafeTensorsWriter.write(file, tensors, Map.of());
        try (SafeTensors st = SafeTensors.open(file)) {
            var e = assertThrows(FormatException.class, () -> BnbNf4Format.read(st, NAME));
            assertTrue(e.getMessage().contains(message), e.getMessage());
            assertTrue(e.getMessage().contains("bad.safetensors"), e.getMessage());
        }
    }

    private static void assertBadJson(String json, String message) {
        var e = assertThrows(FormatException.class, () -> QuantState.parse(json.getBytes(StandardCharsets.UTF_8), "w.quant_state"));
        assertTrue(e.getMessage().contains(message) && e.getMessage().startsWith("w.quant_state"), e.getMessage());
    }

    @Test
    void plainWeightsAreNotTakenForQuantizedOnes() throws IOException {
        Path file = dir.resolve("plain.safetensors");
        SafeTensorsWriter.write(file, Map.of(NAME, HostTensor.ofFloats(new float[64], 64)), Map.of());
        try (SafeTensors st = SafeTensors.open(file)) {
            assertFalse(BnbNf4Format.isQuantized(st, NAME));
            assertThrows(FormatException.class, () -> BnbNf4Format.read(st, NAME));
        }
    }

    private static HostTensor json(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return new HostTensor(DType.U8, new long[]{b.length}, MemorySegment.ofArray(b));
    }

    private static Nf4Weight weight(long[] shape, boolean doubleQuant) {
        Random random = new Random(7);
        float[] values = new float[(int) (shape[0] * shape[1])];
        for (int i = 0; i < values.length; i++) values[i] = (float) random.nextGaussian() * 0.02f;
        return Nf4Quantizer.quantize(MemorySegment.ofArray(values), shape, "bfloat16", doubleQuant);
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) out[i] = Float.floatToRawIntBits(values[i]);
        return out;
    }
}
