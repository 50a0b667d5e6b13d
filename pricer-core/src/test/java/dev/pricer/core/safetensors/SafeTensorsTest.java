package dev.pricer.core.safetensors;

import dev.pricer.core.FormatException;
import dev.pricer.core.Fixtures;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {

    @TempDir
    Path dir;

    /** A file with a hand-written header, so that the header can lie. */
    private Path craft(String name, String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(json.length).put(json);
        Path file = dir.resolve(name);
        Files.write(file, buf.array());
        return file;
    }

    private static void assertRefused(Path file, String... mentions) {
        FormatException e = assertThrows(FormatException.class, () -> SafeTensorsFile.open(file).close());
        assertTrue(e.getMessage().contains(file.toString()), "names the file: " + e.getMessage());
        for (String m : mentions) assertTrue(e.getMessage().contains(m), "mentions '" + m + "': " + e.getMessage());
    }

    @Test
    void writesAndReadsBackEveryDtypeTheEngineUses() throws IOException {
        MemorySegment bf16 = Arena.ofAuto().allocate(4);
        bf16.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, 0, (short) (Float.floatToIntBits(1.5f) >>> 16));
        bf16.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, 1, (short) (Float.floatToIntBits(-2f) >>> 16));
        MemorySegment f16 = Arena.ofAuto().allocate(4);
        f16.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, 0, Float.floatToFloat16(0.25f));
        f16.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, 1, Float.floatToFloat16(3f));
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("f32", HostTensor.ofFloats(new float[]{1, 2, 3, 4, 5, 6}, 2, 3));
        tensors.put("bf16", new HostTensor(DType.BF16, new long[]{2}, bf16));
        tensors.put("f16", new HostTensor(DType.F16, new long[]{2}, f16));
        tensors.put("ids", HostTensor.ofLongs(new long[]{7, -100}, 1, 2));
        Path file = dir.resolve("t.safetensors");
        SafeTensorsWriter.write(file, tensors, Map.of("format", "pt"));
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertEquals(List.of("f32", "bf16", "f16", "ids"), f.names());
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertArrayEquals(new long[]{2, 3}, f.tensor("f32").shape());
            assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, f.tensor("f32").toFloatArray());
            assertArrayEquals(new float[]{1.5f, -2f}, f.tensor("bf16").toFloatArray());
            assertArrayEquals(new float[]{0.25f, 3f}, f.tensor("f16").toFloatArray());
            assertArrayEquals(new long[]{7, -100}, f.tensor("ids").toLongArray());
        }
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void readsShardedModelsThroughTheIndex() throws IOException {
        SafeTensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), Map.of("a", HostTensor.ofFloats(new float[]{1, 2}, 2)), Map.of());
        SafeTensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), Map.of("b", HostTensor.ofFloats(new float[]{3}, 1)), Map.of());
        Files.writeString(dir.resolve(SafeTensors.INDEX), """
                {"metadata": {"total_size": 12}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}""");
        try (SafeTensors st = SafeTensors.open(dir)) {
            assertEquals(List.of("a", "b"), st.names());
            assertArrayEquals(new float[]{1, 2}, st.tensor("a").toFloatArray());
            assertArrayEquals(new float[]{3}, st.tensor("b").toFloatArray());
        }
    }

    @Test
    void indexNamingATensorItsShardLacksIsRefused() throws IOException {
        SafeTensorsWriter.write(dir.resolve("s1.safetensors"), Map.of("a", HostTensor.ofFloats(new float[]{1}, 1)), Map.of());
        Files.writeString(dir.resolve(SafeTensors.INDEX), "{\"weight_map\": {\"a\": \"s1.safetensors\", \"zz\": \"s1.safetensors\"}}");
        FormatException e = assertThrows(FormatException.class, () -> SafeTensors.open(dir));
        assertTrue(e.getMessage().contains("weight_map.zz"), e.getMessage());
    }

    @Test
    void truncatedFileIsRefusedNamingTheTensor() throws IOException {
        Path original = Fixtures.model("tiny-llama").resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(original);
        Path file = dir.resolve("model.safetensors");
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        assertRefused(file, "data_offsets", "truncated");
        Files.write(file, Arrays.copyOf(bytes, 5));
        assertRefused(file, "truncated");
        Files.write(file, Arrays.copyOf(bytes, 100));
        assertRefused(file, "header length");
    }

    @Test
    void offsetsRunningPastTheEndAreRefused() throws IOException {
        Path file = craft("past.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 8);
        assertRefused(file, "'w'", "data_offsets");
    }

    @Test
    void overlappingOffsetsAreRefused() throws IOException {
        Path file = craft("overlap.safetensors", """
                {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}""", 12);
        assertRefused(file, "overlaps", "data_offsets");
    }

    @Test
    void shapeThatDisagreesWithTheByteRangeIsRefused() throws IOException {
        Path file = craft("shape.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8);
        assertRefused(file, "'w'", "shape");
    }

    @Test
    void unknownDtypeIsRefused() throws IOException {
        Path file = craft("dtype.safetensors", "{\"w\": {\"dtype\": \"Q3\", \"shape\": [2], \"data_offsets\": [0, 2]}}", 2);
        assertRefused(file, "'w'", "unknown dtype 'Q3'");
    }

    @Test
    void headerThatIsNotJsonIsRefused() throws IOException {
        assertRefused(craft("json.safetensors", "{\"w\": [", 0), "not valid JSON");
    }
}
