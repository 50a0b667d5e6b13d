package dev.pricer.core.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pricer.core.FormatException;
import dev.pricer.core.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LlamaConfigTest {

    @TempDir
    Path dir;

    private ObjectNode fixture() throws IOException {
        return (ObjectNode) new ObjectMapper().readTree(Fixtures.model("tiny-llama").resolve("config.json").toFile());
    }

    private LlamaConfig read(ObjectNode json) throws IOException {
        Files.writeString(dir.resolve("config.json"), json.toString());
        return LlamaConfig.read(dir);
    }

    private FormatException refused(ObjectNode json, String... mentions) {
        FormatException e = assertThrows(FormatException.class, () -> read(json));
        assertTrue(e.getMessage().contains(dir.resolve("config.json").toString()), "names the file: " + e.getMessage());
        for (String m : mentions) assertTrue(e.getMessage().contains(m), "mentions '" + m + "': " + e.getMessage());
        return e;
    }

    @Test
    void readsALlama31Config() {
        LlamaConfig c = LlamaConfig.read(Fixtures.model("tiny-llama"));
        assertEquals(512, c.vocabSize());
        assertEquals(64, c.hiddenSize());
        assertEquals(4, c.numHeads());
        assertEquals(2, c.numKvHeads());
        assertEquals(16, c.headDim());
        assertEquals(500000.0, c.ropeTheta());
        assertEquals(new RopeScaling.Llama3(8, 1, 4, 8192), c.ropeScaling());
        assertEquals(List.of(2), c.eosTokenIds());
        assertEquals(false, c.tieWordEmbeddings());
        assertEquals(true, LlamaConfig.read(Fixtures.model("tiny-llama-tied")).tieWordEmbeddings());
    }

    @Test
    void readsLinearAndAbsentScalingAndDefaults() throws IOException {
        ObjectNode json = fixture();
        json.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
        json.remove("head_dim");
        json.remove("num_key_value_heads");
        LlamaConfig c = read(json);
        assertEquals(new RopeScaling.Linear(2.0), c.ropeScaling());
        assertEquals(16, c.headDim());
        assertEquals(4, c.numKvHeads());
        json.putNull("rope_scaling");
        assertInstanceOf(RopeScaling.None.class, read(json).ropeScaling());
    }

    @Test
    void readsTransformers5RopeParameters() throws IOException {
        ObjectNode json = fixture();
        json.remove("rope_scaling");
        json.remove("rope_theta");
        json.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 10000.0);
        LlamaConfig c = read(json);
        assertEquals(10000.0, c.ropeTheta());
        assertInstanceOf(RopeScaling.None.class, c.ropeScaling());
    }

    @Test
    void llama3ScalingKeepsHighFrequenciesAndDividesLowOnes() {
        RopeScaling s = new RopeScaling.Llama3(8, 1, 4, 8192);
        assertEquals(1.0, s.scale(1.0));
        double low = 2 * Math.PI / 20000;
        assertEquals(low / 8, s.scale(low), 1e-15);
        double mid = 2 * Math.PI / 4096;
        assertTrue(s.scale(mid) < mid && s.scale(mid) > mid / 8);
    }

    @Test
    void missingRequiredFieldIsNamed() throws IOException {
        ObjectNode json = fixture();
        json.remove("hidden_size");
        refused(json, "'hidden_size'", "missing");
        json = fixture();
        ((ObjectNode) json.get("rope_scaling")).remove("low_freq_factor");
        refused(json, "rope_scaling.low_freq_factor");
    }

    @Test
    void unsupportedValuesAreNamed() throws IOException {
        ObjectNode json = fixture();
        json.put("model_type", "mistral");
        refused(json, "'model_type'", "mistral");
        json = fixture();
        json.put("attention_bias", true);
        refused(json, "'attention_bias'");
        json = fixture();
        json.put("sliding_window", 4096);
        refused(json, "'sliding_window'", "4096");
        json = fixture();
        ((ObjectNode) json.get("rope_scaling")).put("rope_type", "yarn");
        refused(json, "rope_scaling.rope_type", "yarn");
        json = fixture();
        json.put("num_key_value_heads", 3);
        refused(json, "num_key_value_heads");
    }
}
