package dev.pricer.core.model;

import dev.pricer.core.Fixtures;
import dev.pricer.core.backend.AdamW;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.lora.LoraConfig;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.pricer.core.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The training API driven as API.md tells the trainer to drive it, on the fixture's training-run batches.
 * (The fixture's {@code run.*} values cannot be reproduced exactly: that run starts from a {@code lora_A} that
 * PEFT drew at random and the fixture does not store.)
 */
class TrainingApiTest {

    private final Map<String, HostTensor> expected = Fixtures.expected("tiny-llama");
    private final int[] ids = expected.get("run.input_ids").toIntArray();
    private final int[] labels = expected.get("run.labels").toIntArray();
    private final Backend backend = new CpuBackend();

    private Batch microBatch(int index, int sequences) {
        int from = index * 2 * 24, to = from + sequences * 24;
        return new Batch(sequences, 24, Arrays.copyOfRange(ids, from, to), Arrays.copyOfRange(labels, from, to), null);
    }

    private Map<String, float[]> gradients(LlamaModel model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Parameter p : model.trainableParameters()) out.put(p.name(), model.download(p.grad(), p.shape()).toFloatArray());
        return out;
    }

    /** Σ over micro-batches of forwardBackward(mb, 1/stepTokens) is the gradient of the whole step's mean loss. */
    @Test
    void accumulatedMicroBatchesEqualOneBatchOfTheWholeStep() {
        try (LlamaModel model = LlamaModel.load(Fixtures.model("tiny-llama"), Fixtures.adapter("tiny-llama"), backend)) {
            Batch first = microBatch(0, 2), second = microBatch(1, 2), whole = microBatch(0, 4);
            long tokens = first.labelTokens() + second.labelTokens();
            assertEquals(whole.labelTokens(), tokens);
            model.zeroGradients();
            LossSum accumulated = model.forwardBackward(first, 1f / tokens).plus(model.forwardBackward(second, 1f / tokens));
            Map<String, float[]> accumulatedGrads = gradients(model);
            model.zeroGradients();
            LossSum once = model.forwardBackward(whole, 1f / tokens);
            assertEquals(once.tokens(), accumulated.tokens());
            assertEquals(once.sum(), accumulated.sum(), 1e-4);
            gradients(model).forEach((name, g) -> {
                float[] a = accumulatedGrads.get(name);
                double[] want = new double[g.length];
                for (int i = 0; i < g.length; i++) want[i] = g[i];
                assertClose(a, want, 1e-5, name);
            });
        }
    }

    @Test
    void labelsOutsideTheVocabularyAreRefusedBeforeAnyGradientChanges() {
        try (LlamaModel model = LlamaModel.load(Fixtures.model("tiny-llama"), Fixtures.adapter("tiny-llama"), backend)) {
            Batch good = microBatch(0, 2);
            int[] badLabels = good.labels().clone();
            badLabels[30] = 9999;
            Batch bad = new Batch(2, 24, good.inputIds(), badLabels, null);
            model.zeroGradients();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.forwardBackward(bad, 1f));
            assertTrue(e.getMessage().contains("9999") && e.getMessage().contains("[1][6]"), e.getMessage());
            for (Parameter p : model.trainableParameters()) assertEquals(0.0, backend.sumOfSquares(p.grad()), p.name());
        }
    }

    @Test
    void clippedAdamWStepsLowerTheLossOnRepeatedData() {
        try (LlamaModel model = LlamaModel.load(Fixtures.model("tiny-llama"), Fixtures.adapter("tiny-llama"), backend)) {
            assertLossFalls(model, 2e-3f, 0.5);
        }
    }

    @Test
    void aModelInitialisedFromScratchTrainsEveryWeight() {
        LlamaConfig config = LlamaConfig.read(Fixtures.model("tiny-llama"));
        try (LlamaModel model = LlamaModel.initialize(config, backend, 0.02, 3, true)) {
            assertEquals(2 + 9 * config.numLayers() + 1, model.trainableParameters().size());
            assertEquals("model.embed_tokens.weight", model.trainableParameters().getFirst().name());
            assertLossFalls(model, 1e-2f, 1.0);
            assertThrows(IllegalStateException.class, () -> model.createAdapter(new LoraConfig(2, 4, 0, List.of("q_proj"), false), 1));
        }
        try (LlamaModel frozen = LlamaModel.initialize(config, backend, 0.02, 3, false)) {
            assertTrue(frozen.trainableParameters().isEmpty());
        }
    }

    @Test
    void aTrainedModelSavesInHfLayoutAndLoadsBack(@TempDir Path dir) {
        LlamaConfig config = LlamaConfig.read(Fixtures.model("tiny-llama-tied"));
        Batch batch = microBatch(0, 2);
        float[] before;
        try (LlamaModel model = LlamaModel.initialize(config, backend, 0.02, 5, true)) {
            assertLossFalls(model, 1e-2f, 1.0);
            before = model.logits(batch).toFloatArray();
            model.saveModel(dir);
        }
        assertEquals(config, LlamaConfig.read(dir));
        try (LlamaModel loaded = LlamaModel.load(dir, backend)) {
            double[] want = new double[before.length];
            for (int i = 0; i < want.length; i++) want[i] = before[i];
            assertClose(loaded.logits(batch).toFloatArray(), want, 1e-6, "logits after save and load");
        }
    }

    private void assertLossFalls(LlamaModel model, float lr, double by) {
        Batch batch = microBatch(0, 2);
        Map<String, Buffer[]> moments = new LinkedHashMap<>();
        for (Parameter p : model.trainableParameters()) {
            moments.put(p.name(), new Buffer[]{backend.allocate(DType.F32, p.value().length()), backend.allocate(DType.F32, p.value().length())});
        }
        double first = model.loss(batch).mean();
        for (int step = 1; step <= 10; step++) {
            model.zeroGradients();
            model.forwardBackward(batch, 1f / batch.labelTokens());
            double norm = Math.sqrt(model.trainableParameters().stream().mapToDouble(p -> backend.sumOfSquares(p.grad())).sum());
            float clip = (float) Math.min(1.0, 1.0 / (norm + 1e-6));
            for (Parameter p : model.trainableParameters()) {
                if (clip < 1f) backend.scale(p.grad(), clip);
                Buffer[] mv = moments.get(p.name());
                backend.adamw(p.value(), p.grad(), mv[0], mv[1], new AdamW(lr, 0.9f, 0.999f, 1e-8f, 0f, step));
            }
        }
        double last = model.loss(batch).mean();
        assertTrue(last < first - by, "loss " + first + " -> " + last);
    }
}
