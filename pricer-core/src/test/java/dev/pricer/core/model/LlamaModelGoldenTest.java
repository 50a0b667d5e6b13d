package dev.pricer.core.model;

import dev.pricer.core.Fixtures;
import dev.pricer.core.backend.AdamW;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static dev.pricer.core.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine against transformers 5.17 + PEFT 0.21 on the tiny Llama, untied and tied. */
class LlamaModelGoldenTest {

    private static final double LOGIT_TOLERANCE = 1e-4;
    private static final double GRAD_TOLERANCE = 1e-4;

    private final Backend backend = new CpuBackend();

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-tied"})
    void baseLogitsMatchTheFloat64Reference(String name) {
        Map<String, HostTensor> expected = Fixtures.expected(name);
        try (LlamaModel model = LlamaModel.load(Fixtures.model(name), backend)) {
            HostTensor logits = model.logits(Fixtures.batch(expected, ""));
            assertArrayEquals(new long[]{2, 24, 512}, logits.shape());
            assertClose(logits.toFloatArray(), expected.get("base.logits_f64").toDoubleArray(), LOGIT_TOLERANCE, "base logits");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-tied"})
    void baseLossMatches(String name) {
        Map<String, HostTensor> expected = Fixtures.expected(name);
        try (LlamaModel model = LlamaModel.load(Fixtures.model(name), backend)) {
            Batch batch = Fixtures.batch(expected, "");
            LossSum loss = model.loss(batch);
            assertEquals(batch.labelTokens(), loss.tokens());
            assertEquals(expected.get("base.loss").toFloatArray()[0], loss.mean(), 1e-5);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-tied"})
    void loraLogitsAndLossMatch(String name) {
        Map<String, HostTensor> expected = Fixtures.expected(name);
        try (LlamaModel model = LlamaModel.load(Fixtures.model(name), Fixtures.adapter(name), backend)) {
            Batch batch = Fixtures.batch(expected, "");
            assertClose(model.logits(batch).toFloatArray(), expected.get("lora.logits").toDoubleArray(), LOGIT_TOLERANCE, "lora logits");
            assertEquals(expected.get("lora.loss").toFloatArray()[0], model.loss(batch).mean(), 1e-5);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-tied"})
    void everyLoraGradientAndTheGradNormMatch(String name) {
        Map<String, HostTensor> expected = Fixtures.expected(name);
        try (LlamaModel model = LlamaModel.load(Fixtures.model(name), Fixtures.adapter(name), backend)) {
            Batch batch = Fixtures.batch(expected, "");
            model.zeroGradients();
            LossSum loss = model.forwardBackward(batch, 1f / batch.labelTokens());
            assertEquals(expected.get("lora.loss").toFloatArray()[0], loss.mean(), 1e-5);
            assertEquals(28, model.trainableParameters().size());
            double sumSquares = 0;
            for (Parameter p : model.trainableParameters()) {
                HostTensor want = expected.get("grad." + p.name());
                assertArrayEquals(want.shape(), p.shape(), p.name());
                assertClose(model.download(p.grad(), p.shape()).toFloatArray(), want.toDoubleArray(), GRAD_TOLERANCE, "grad." + p.name());
                sumSquares += backend.sumOfSquares(p.grad());
            }
            assertEquals(expected.get("lora.grad_norm").toFloatArray()[0], Math.sqrt(sumSquares), 1e-5);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-tied"})
    void oneClippedAdamWStepMatchesTorch(String name) {
        Map<String, HostTensor> expected = Fixtures.expected(name);
        try (LlamaModel model = LlamaModel.load(Fixtures.model(name), Fixtures.adapter(name), backend)) {
            Batch batch = Fixtures.batch(expected, "");
            model.zeroGradients();
            model.forwardBackward(batch, 1f / batch.labelTokens());
            double norm = Math.sqrt(model.trainableParameters().stream().mapToDouble(p -> backend.sumOfSquares(p.grad())).sum());
            // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1
            float clip = (float) Math.min(1.0, 1.0 / (norm + 1e-6));
            AdamW hyper = new AdamW(1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 1);
            for (Parameter p : model.trainableParameters()) {
                backend.scale(p.grad(), clip);
                backend.adamw(p.value(), p.grad(), backend.allocate(p.value().dtype(), p.value().length()),
                        backend.allocate(p.value().dtype(), p.value().length()), hyper);
                // The first step moves each weight by about lr·g/(|g| + eps): for gradients near eps, last-bit
                // differences in g from torch's show up here amplified.
                assertClose(model.download(p.value(), p.shape()).toFloatArray(), expected.get("adamw1." + p.name()).toDoubleArray(),
                        5e-6, "adamw1." + p.name());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-tied"})
    void greedyGenerationMatchesTokenForToken(String name) {
        Map<String, HostTensor> expected = Fixtures.expected(name);
        int[] prompt = expected.get("base.generate.prompt").toIntArray();
        try (LlamaModel model = LlamaModel.load(Fixtures.model(name), backend)) {
            assertArrayEquals(expected.get("base.generate.output").toIntArray(), model.generateGreedy(prompt, 8));
            model.loadAdapter(Fixtures.adapter(name));
            assertArrayEquals(expected.get("lora.generate.output").toIntArray(), model.generateGreedy(prompt, 8));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-tied"})
    void batchedGenerationOfPromptsOfDifferentLengthsMatchesOneByOne(String name) {
        Map<String, HostTensor> expected = Fixtures.expected(name);
        int[] ids = expected.get("input_ids").toIntArray();
        int[][] prompts = {expected.get("base.generate.prompt").toIntArray(), Arrays.copyOfRange(ids, 24, 24 + 18), Arrays.copyOfRange(ids, 24, 24 + 5)};
        try (LlamaModel model = LlamaModel.load(Fixtures.model(name), Fixtures.adapter(name), backend)) {
            int[][] together = model.generateGreedy(prompts, 8);
            assertArrayEquals(expected.get("lora.generate.output").toIntArray(), together[0]);
            for (int b = 0; b < prompts.length; b++) assertArrayEquals(model.generateGreedy(prompts[b], 8), together[b], "prompt " + b);
        }
    }

    /** Each sequence stops after its own end-of-sequence token; the others go on. */
    @Test
    void generationStopsEachSequenceAtAnEosToken(@TempDir Path dir) throws IOException {
        Map<String, HostTensor> expected = Fixtures.expected("tiny-llama");
        int[] prompt = expected.get("base.generate.prompt").toIntArray(), full = expected.get("base.generate.output").toIntArray();
        int eos = full[prompt.length + 1];
        Files.copy(Fixtures.model("tiny-llama").resolve("model.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), Files.readString(Fixtures.model("tiny-llama").resolve("config.json"))
                .replace("\"eos_token_id\": 2", "\"eos_token_id\": " + eos));
        int[] other = Arrays.copyOfRange(expected.get("input_ids").toIntArray(), 24, 24 + 18);
        try (LlamaModel model = LlamaModel.load(dir, backend)) {
            int[][] out = model.generateGreedy(new int[][]{prompt, other}, 8);
            assertArrayEquals(Arrays.copyOf(full, prompt.length + 2), out[0]);
            int[] alone = model.generateGreedy(other, 8);
            assertArrayEquals(alone, out[1]);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-tied"})
    void nextTokenDistributionAgreesWithFullLogitsAcrossPaddedPrompts(String name) {
        Map<String, HostTensor> expected = Fixtures.expected(name);
        int[] ids = expected.get("input_ids").toIntArray();
        int[] a = Arrays.copyOfRange(ids, 0, 10), b = Arrays.copyOfRange(ids, 24, 24 + 17);
        try (LlamaModel model = LlamaModel.load(Fixtures.model(name), Fixtures.adapter(name), backend)) {
            float[][] probs = model.nextTokenProbabilities(new int[][]{a, b});
            float[] logits = expected.get("lora.logits").toFloatArray();
            for (int[] seq : new int[][]{new int[]{0, 9}, new int[]{1, 16}}) {
                int row = seq[0], pos = seq[1];
                double[] want = softmax(Arrays.copyOfRange(logits, (row * 24 + pos) * 512, (row * 24 + pos + 1) * 512));
                assertClose(probs[row], want, 1e-4, "next-token distribution of prompt " + row);
                int argmax = 0;
                for (int i = 1; i < 512; i++) if (want[i] > want[argmax]) argmax = i;
                int[] generated = model.generateGreedy(row == 0 ? a : b, 1);
                assertEquals(argmax, generated[generated.length - 1]);
            }
        }
    }

    private static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : logits) max = Math.max(max, v);
        double[] out = new double[logits.length];
        for (int i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
        for (int i = 0; i < logits.length; i++) out[i] /= sum;
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-tied"})
    void adapterWrittenUnderPeftNamesReadsBackIdentically(String name, @TempDir Path dir) {
        Map<String, HostTensor> expected = Fixtures.expected(name);
        Batch batch = Fixtures.batch(expected, "");
        float[] before;
        try (LlamaModel model = LlamaModel.load(Fixtures.model(name), Fixtures.adapter(name), backend)) {
            before = model.logits(batch).toFloatArray();
            model.saveAdapter(dir, BaseModelRef.of(name));
        }
        Map<String, HostTensor> written = dev.pricer.core.safetensors.SafeTensors.readAll(dir.resolve("adapter_model.safetensors"));
        Map<String, HostTensor> original = dev.pricer.core.safetensors.SafeTensors.readAll(Fixtures.adapter(name).resolve("adapter_model.safetensors"));
        assertEquals(original.keySet(), written.keySet());
        original.forEach((key, t) -> {
            assertArrayEquals(t.shape(), written.get(key).shape(), key);
            assertArrayEquals(t.toFloatArray(), written.get(key).toFloatArray(), key);
        });
        try (LlamaModel model = LlamaModel.load(Fixtures.model(name), dir, backend)) {
            double[] want = new double[before.length];
            for (int i = 0; i < want.length; i++) want[i] = before[i];
            assertClose(model.logits(batch).toFloatArray(), want, 1e-6, "logits through the re-read adapter");
            assertEquals(2.0, model.loraConfig().scaling());
        }
        assertFalse(dir.resolve("adapter_config.json.tmp").toFile().exists());
        assertTrue(dir.resolve("adapter_config.json").toFile().isFile());
    }

    /** A right-padded row must give the logits its prefix gives unpadded: causal attention never sees the padding. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-tied"})
    void rightPaddedBatchesMatchTheUnpaddedPrefix(String name) {
        Map<String, HostTensor> expected = Fixtures.expected(name);
        int[] ids = expected.get("input_ids").toIntArray(), labels = expected.get("labels").toIntArray();
        int keep = 20;
        int[][] sequences = {Arrays.copyOfRange(ids, 0, 24), Arrays.copyOfRange(ids, 24, 24 + keep)};
        int[][] sequenceLabels = {Arrays.copyOfRange(labels, 0, 24), Arrays.copyOfRange(labels, 24, 24 + keep)};
        Batch padded = Batch.rightPadded(sequences, sequenceLabels);
        assertArrayEquals(new int[]{24, keep}, padded.validLengths());
        try (LlamaModel model = LlamaModel.load(Fixtures.model(name), Fixtures.adapter(name), backend)) {
            float[] logits = model.logits(padded).toFloatArray();
            double[] want = expected.get("lora.logits").toDoubleArray();
            int v = 512;
            assertClose(Arrays.copyOfRange(logits, 0, 24 * v), Arrays.copyOfRange(want, 0, 24 * v), LOGIT_TOLERANCE, "full row");
            assertClose(Arrays.copyOfRange(logits, 24 * v, (24 + keep) * v), Arrays.copyOfRange(want, 24 * v, (24 + keep) * v),
                    LOGIT_TOLERANCE, "padded row's prefix");
            LossSum paddedLoss = model.loss(padded);
            assertEquals((24 - 15) + (keep - 18), paddedLoss.tokens());
            model.zeroGradients();
            LossSum trained = model.forwardBackward(padded, 1f);
            assertEquals(paddedLoss.sum(), trained.sum(), 1e-4);
        }
    }
}
