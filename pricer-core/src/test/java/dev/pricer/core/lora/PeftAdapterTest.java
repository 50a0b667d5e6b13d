package dev.pricer.core.lora;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pricer.core.FormatException;
import dev.pricer.core.Fixtures;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.model.Batch;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.safetensors.SafeTensorsWriter;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PeftAdapterTest {

    @TempDir
    Path dir;

    private Path copyOfFixtureAdapter() throws IOException {
        Path src = Fixtures.adapter("tiny-llama");
        Files.copy(src.resolve(PeftAdapter.CONFIG_FILE), dir.resolve(PeftAdapter.CONFIG_FILE));
        Files.copy(src.resolve(PeftAdapter.WEIGHTS_FILE), dir.resolve(PeftAdapter.WEIGHTS_FILE));
        return dir;
    }

    @Test
    void readsPeftsConfig() {
        LoraConfig c = PeftAdapter.read(Fixtures.adapter("tiny-llama")).config();
        assertEquals(8, c.r());
        assertEquals(16.0, c.alpha());
        assertEquals(2.0, c.scaling());
        assertEquals(LoraConfig.ALL_PROJECTIONS, c.targetModules());
    }

    /** PEFT's base_model_name_or_path and revision: the base's name and the commit it was trained on, or null. */
    @Test
    void theBaseIsWrittenWithItsRevision() throws IOException {
        LoraConfig c = PeftAdapter.read(Fixtures.adapter("tiny-llama")).config();
        Map<String, HostTensor> none = Map.of();
        PeftAdapter.write(dir.resolve("pinned"), c, none, new BaseModelRef("meta-llama/Llama-3.1-8B", "0123456789abcdef0123456789abcdef01234567"));
        PeftAdapter.write(dir.resolve("folder"), c, none, BaseModelRef.of("/models/base"));
        ObjectMapper json = new ObjectMapper();
        var pinned = json.readTree(dir.resolve("pinned").resolve(PeftAdapter.CONFIG_FILE).toFile());
        assertEquals("meta-llama/Llama-3.1-8B", pinned.get("base_model_name_or_path").asText());
        assertEquals("0123456789abcdef0123456789abcdef01234567", pinned.get("revision").asText());
        var folder = json.readTree(dir.resolve("folder").resolve(PeftAdapter.CONFIG_FILE).toFile());
        assertEquals("/models/base", folder.get("base_model_name_or_path").asText());
        assertTrue(folder.get("revision").isNull());
        assertThrows(IllegalArgumentException.class, () -> BaseModelRef.of(" "));

        assertEquals(new BaseModelRef("meta-llama/Llama-3.1-8B", "0123456789abcdef0123456789abcdef01234567"), PeftAdapter.readBase(dir.resolve("pinned")),
                "read back as written");
        assertEquals(BaseModelRef.of("/models/base"), PeftAdapter.readBase(dir.resolve("folder")));
        Path nameless = Files.createDirectories(dir.resolve("nameless"));
        Files.writeString(nameless.resolve(PeftAdapter.CONFIG_FILE), "{\"r\": 8, \"base_model_name_or_path\": \"\"}");
        assertEquals(nameless.resolve(PeftAdapter.CONFIG_FILE) + " names no base_model_name_or_path: give the base model explicitly",
                assertThrows(FormatException.class, () -> PeftAdapter.readBase(nameless)).getMessage());
    }

    @Test
    void rsLoraScalesByTheSquareRootOfTheRank() {
        assertEquals(16 / Math.sqrt(8), new LoraConfig(8, 16, 0, List.of("q_proj"), true).scaling(), 1e-12);
        assertEquals(2.0, new LoraConfig(8, 16, 0, List.of("q_proj"), false).scaling());
    }

    @Test
    void adapterWhoseShapesDoNotFitTheModelIsRefusedAndTheOldAdapterStays() throws IOException {
        Path bad = copyOfFixtureAdapter();
        Map<String, HostTensor> tensors = new LinkedHashMap<>(SafeTensors.readAll(bad.resolve(PeftAdapter.WEIGHTS_FILE)));
        String key = "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight";
        tensors.put(key, HostTensor.ofFloats(new float[8 * 64], 8, 64));
        SafeTensorsWriter.write(bad.resolve(PeftAdapter.WEIGHTS_FILE), tensors, Map.of());
        Map<String, HostTensor> expected = Fixtures.expected("tiny-llama");
        Batch batch = Fixtures.batch(expected, "");
        try (LlamaModel model = LlamaModel.load(Fixtures.model("tiny-llama"), Fixtures.adapter("tiny-llama"), new CpuBackend())) {
            float[] before = model.logits(batch).toFloatArray();
            FormatException e = assertThrows(FormatException.class, () -> model.loadAdapter(bad));
            assertTrue(e.getMessage().contains(bad.resolve(PeftAdapter.WEIGHTS_FILE).toString()), e.getMessage());
            assertTrue(e.getMessage().contains(key) && e.getMessage().contains("[8, 64]") && e.getMessage().contains("[8, 160]"), e.getMessage());
            // Not bit-equal: vector exp and lane reductions may round differently once the JIT compiles them.
            Fixtures.assertClose(model.logits(batch).toFloatArray(), toDoubles(before), 1e-6, "the loaded adapter is untouched");
            assertEquals(28, model.trainableParameters().size());
        }
        assertThrows(FormatException.class, () -> LlamaModel.load(Fixtures.model("tiny-llama"), bad, new CpuBackend()));
    }

    private static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) out[i] = values[i];
        return out;
    }

    @Test
    void adapterForMoreLayersThanTheModelIsRefused() throws IOException {
        Path bad = copyOfFixtureAdapter();
        Map<String, HostTensor> tensors = new LinkedHashMap<>(SafeTensors.readAll(bad.resolve(PeftAdapter.WEIGHTS_FILE)));
        tensors.put("base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight", HostTensor.ofFloats(new float[8 * 64], 8, 64));
        SafeTensorsWriter.write(bad.resolve(PeftAdapter.WEIGHTS_FILE), tensors, Map.of());
        try (LlamaModel model = LlamaModel.load(Fixtures.model("tiny-llama"), new CpuBackend())) {
            FormatException e = assertThrows(FormatException.class, () -> model.loadAdapter(bad));
            assertTrue(e.getMessage().contains("layers.7"), e.getMessage());
            assertEquals(null, model.loraConfig());
        }
    }

    @Test
    void unsupportedAdapterOptionsAreNamed() throws IOException {
        Path bad = copyOfFixtureAdapter();
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(bad.resolve(PeftAdapter.CONFIG_FILE).toFile());
        json.put("use_dora", true);
        Files.writeString(bad.resolve(PeftAdapter.CONFIG_FILE), json.toString());
        FormatException e = assertThrows(FormatException.class, () -> PeftAdapter.read(bad));
        assertTrue(e.getMessage().contains("use_dora") && e.getMessage().contains(PeftAdapter.CONFIG_FILE), e.getMessage());
        json.put("use_dora", false);
        json.remove("r");
        Files.writeString(bad.resolve(PeftAdapter.CONFIG_FILE), json.toString());
        e = assertThrows(FormatException.class, () -> PeftAdapter.read(bad));
        assertTrue(e.getMessage().contains("'r'"), e.getMessage());
    }
}
