package dev.pricer.core.model;

import dev.pricer.core.FormatException;
import dev.pricer.core.Fixtures;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.safetensors.SafeTensorsWriter;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelLoadingTest {

    @TempDir
    Path dir;

    private Map<String, HostTensor> fixtureWeights() {
        return SafeTensors.readAll(Fixtures.model("tiny-llama").resolve("model.safetensors"));
    }

    private void withConfig() throws IOException {
        Files.copy(Fixtures.model("tiny-llama").resolve("config.json"), dir.resolve("config.json"));
    }

    @Test
    void bf16AndF16WeightsLoadAndComputeClosely() throws IOException {
        withConfig();
        Map<String, HostTensor> bf16 = new LinkedHashMap<>(), f16 = new LinkedHashMap<>();
        fixtureWeights().forEach((name, t) -> {
            float[] v = t.toFloatArray();
            MemorySegment b = Arena.ofAuto().allocate(v.length * 2L), h = Arena.ofAuto().allocate(v.length * 2L);
            for (int i = 0; i < v.length; i++) {
                b.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) ((Float.floatToIntBits(v[i]) + 0x8000) >>> 16));
                h.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, Float.floatToFloat16(v[i]));
            }
            bf16.put(name, new HostTensor(DType.BF16, t.shape(), b));
            f16.put(name, new HostTensor(DType.F16, t.shape(), h));
        });
        Map<String, HostTensor> expected = Fixtures.expected("tiny-llama");
        double[] reference = expected.get("base.logits_f64").toDoubleArray();
        for (var weights : List.of(Map.entry(bf16, 2e-2), Map.entry(f16, 2e-3))) {
            SafeTensorsWriter.write(dir.resolve("model.safetensors"), weights.getKey(), Map.of());
            try (LlamaModel model = LlamaModel.load(dir, new CpuBackend())) {
                double err = Fixtures.relativeError(model.logits(Fixtures.batch(expected, "")).toFloatArray(), reference);
                assertTrue(err < weights.getValue() && err > 0, "relative error " + err);
            }
        }
    }

    @Test
    void shardedWeightsLoadThroughTheIndex() throws IOException {
        withConfig();
        Map<String, HostTensor> first = new LinkedHashMap<>(), second = new LinkedHashMap<>();
        StringBuilder map = new StringBuilder();
        fixtureWeights().forEach((name, t) -> {
            boolean early = name.startsWith("model.embed") || name.startsWith("model.layers.0.");
            (early ? first : second).put(name, t);
            String shard = early ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
            map.append(map.isEmpty() ? "" : ", ").append('"').append(name).append("\": \"").append(shard).append('"');
        });
        SafeTensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"), first, Map.of());
        SafeTensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"), second, Map.of());
        Files.writeString(dir.resolve(SafeTensors.INDEX), "{\"weight_map\": {" + map + "}}");
        Map<String, HostTensor> expected = Fixtures.expected("tiny-llama");
        try (LlamaModel model = LlamaModel.load(dir, new CpuBackend())) {
            Fixtures.assertClose(model.logits(Fixtures.batch(expected, "")).toFloatArray(), expected.get("base.logits_f64").toDoubleArray(),
                    1e-4, "logits from shards");
        }
    }

    @Test
    void missingWeightIsNamed() throws IOException {
        withConfig();
        Map<String, HostTensor> weights = new LinkedHashMap<>(fixtureWeights());
        weights.remove("model.layers.1.mlp.up_proj.weight");
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), weights, Map.of());
        FormatException e = assertThrows(FormatException.class, () -> LlamaModel.load(dir, new CpuBackend()));
        assertTrue(e.getMessage().contains("model.layers.1.mlp.up_proj.weight") && e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void weightWithTheWrongShapeIsNamed() throws IOException {
        withConfig();
        Map<String, HostTensor> weights = new LinkedHashMap<>(fixtureWeights());
        weights.put("model.norm.weight", HostTensor.ofFloats(new float[32], 32));
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), weights, Map.of());
        FormatException e = assertThrows(FormatException.class, () -> LlamaModel.load(dir, new CpuBackend()));
        assertTrue(e.getMessage().contains("model.norm.weight") && e.getMessage().contains("[32]") && e.getMessage().contains("[64]"), e.getMessage());
    }

    @Test
    void truncatedWeightFileIsRefusedBeforeAnythingLoads() throws IOException {
        withConfig();
        byte[] bytes = Files.readAllBytes(Fixtures.model("tiny-llama").resolve("model.safetensors"));
        Files.write(dir.resolve("model.safetensors"), Arrays.copyOf(bytes, bytes.length - 4));
        FormatException e = assertThrows(FormatException.class, () -> LlamaModel.load(dir, new CpuBackend()));
        assertTrue(e.getMessage().contains(dir.resolve("model.safetensors").toString()) && e.getMessage().contains("data_offsets"), e.getMessage());
    }

    @Test
    void configMissingARequiredFieldIsNamed() throws IOException {
        Files.writeString(dir.resolve("config.json"), Files.readString(Fixtures.model("tiny-llama").resolve("config.json")).replace("\"num_hidden_layers\": 2,", ""));
        Files.copy(Fixtures.model("tiny-llama").resolve("model.safetensors"), dir.resolve("model.safetensors"));
        FormatException e = assertThrows(FormatException.class, () -> LlamaModel.load(dir, new CpuBackend()));
        assertTrue(e.getMessage().contains("num_hidden_layers") && e.getMessage().contains("config.json"), e.getMessage());
    }
}
