package dev.pricer.core.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pricer.core.Fixtures;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.lora.LoraConfig;
import dev.pricer.core.lora.PeftAdapter;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;

import static dev.pricer.core.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gradients that have no golden fixture: full-parameter training and LoRA under dropout. Checked against LoRA
 * gradients (which the golden test ties to PEFT) and against central finite differences of the loss.
 */
class GradientCheckTest {

    private final Backend backend = new CpuBackend();
    private final Map<String, HostTensor> expected = Fixtures.expected("tiny-llama");
    private final Batch batch = Fixtures.batch(expected, "");

    private static Parameter named(LlamaModel model, String name) {
        return model.trainableParameters().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }

    /** With B = 0 the adapted weight is W itself, so dL/dB = s·G·Aᵀ and dL/dA = 0, G being W's full gradient. */
    @Test
    void fullProjectionGradientsAgreeWithLoraGradients() {
        try (LlamaModel full = LlamaModel.loadForFullTraining(Fixtures.model("tiny-llama"), backend);
             LlamaModel lora = LlamaModel.load(Fixtures.model("tiny-llama"), backend)) {
            assertEquals(2 + 2 * 9 + 1, full.trainableParameters().size());
            LoraConfig config = new LoraConfig(4, 8, 0, LoraConfig.ALL_PROJECTIONS, false);
            lora.createAdapter(config, 7);
            full.zeroGradients();
            lora.zeroGradients();
            full.forwardBackward(batch, 1f / batch.labelTokens());
            lora.forwardBackward(batch, 1f / batch.labelTokens());
            for (Projection p : Projection.values()) {
                for (int layer = 0; layer < 2; layer++) {
                    Parameter w = named(full, p.modulePath(layer) + ".weight");
                    Parameter a = named(lora, PeftAdapter.key(p.modulePath(layer), "lora_A"));
                    Parameter b = named(lora, PeftAdapter.key(p.modulePath(layer), "lora_B"));
                    int out = (int) w.shape()[0], in = (int) w.shape()[1], r = config.r();
                    float[] g = full.download(w.grad(), w.shape()).toFloatArray();
                    float[] av = lora.download(a.value(), a.shape()).toFloatArray();
                    double[] want = new double[out * r];
                    for (int o = 0; o < out; o++) {
                        for (int k = 0; k < r; k++) {
                            double s = 0;
                            for (int i = 0; i < in; i++) s += (double) g[o * in + i] * av[k * in + i];
                            want[o * r + k] = config.scaling() * s;
                        }
                    }
                    assertClose(lora.download(b.grad(), b.shape()).toFloatArray(), want, 1e-4, b.name());
                    assertEquals(0.0, backend.sumOfSquares(a.grad()), b.name());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-tied"})
    void embeddingNormAndHeadGradientsMatchFiniteDifferences(String name) {
        Map<String, HostTensor> exp = Fixtures.expected(name);
        Batch b = Fixtures.batch(exp, "");
        try (LlamaModel model = LlamaModel.loadForFullTraining(Fixtures.model(name), backend)) {
            model.zeroGradients();
            model.forwardBackward(b, 1f);
            for (String weight : new String[]{"model.embed_tokens.weight", "model.norm.weight", "model.layers.0.input_layernorm.weight",
                    "model.layers.1.post_attention_layernorm.weight", "lm_head.weight", "model.layers.0.mlp.down_proj.weight"}) {
                if (name.endsWith("tied") && weight.equals("lm_head.weight")) continue;
                checkLargestAgainstFiniteDifferences(model, named(model, weight), m -> m.loss(b).sum(), 3);
            }
        }
    }

    @Test
    void loraGradientsUnderDropoutMatchFiniteDifferencesWithTheSameMasks(@TempDir Path dir) throws IOException {
        Path adapter = Fixtures.adapter("tiny-llama");
        Files.copy(adapter.resolve(PeftAdapter.WEIGHTS_FILE), dir.resolve(PeftAdapter.WEIGHTS_FILE));
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(adapter.resolve(PeftAdapter.CONFIG_FILE).toFile());
        json.put("lora_dropout", 0.2);
        Files.writeString(dir.resolve(PeftAdapter.CONFIG_FILE), json.toString());
        try (LlamaModel model = LlamaModel.load(Fixtures.model("tiny-llama"), dir, backend)) {
            ToDoubleFunction<LlamaModel> lossWithMasks = m -> {
                m.seedDropout(42);
                return m.forwardBackward(batch, 1f).sum();
            };
            double dropped = lossWithMasks.applyAsDouble(model);
            // equal up to JIT rounding (vector exp), far closer than another mask would be
            assertEquals(dropped, lossWithMasks.applyAsDouble(model), 1e-5, "the same seed draws the same masks");
            model.seedDropout(43);
            assertTrue(Math.abs(dropped - model.forwardBackward(batch, 1f).sum()) > 1e-3, "another seed draws other masks");
            assertTrue(Math.abs(dropped - model.loss(batch).sum()) > 1e-3, "evaluation runs without dropout");
            model.zeroGradients();
            lossWithMasks.applyAsDouble(model);
            // Taken before any finite difference: each of those passes adds to the gradients again.
            Map<Parameter, HostTensor> gradients = new LinkedHashMap<>();
            for (String key : new String[]{"layers.0.self_attn.q_proj", "layers.1.mlp.down_proj", "layers.0.self_attn.v_proj"}) {
                for (String m : new String[]{"lora_A", "lora_B"}) {
                    Parameter p = named(model, PeftAdapter.key("model." + key, m));
                    gradients.put(p, model.download(p.grad(), p.shape()));
                }
            }
            gradients.forEach((p, g) -> checkLargestAgainstFiniteDifferences(model, p, g, lossWithMasks, 2));
        }
    }

    private void checkLargestAgainstFiniteDifferences(LlamaModel model, Parameter p, ToDoubleFunction<LlamaModel> loss, int count) {
        checkLargestAgainstFiniteDifferences(model, p, model.download(p.grad(), p.shape()), loss, count);
    }

    /** Central differences at the {@code count} largest gradient entries (float32 noise swamps the small ones). */
    private void checkLargestAgainstFiniteDifferences(LlamaModel model, Parameter p, HostTensor gradient,
                                                      ToDoubleFunction<LlamaModel> loss, int count) {
        float[] g = gradient.toFloatArray();
        float[] values = model.download(p.value(), p.shape()).toFloatArray();
        int[] largest = IntStream.range(0, g.length).boxed()
                .sorted((x, y) -> Float.compare(Math.abs(g[y]), Math.abs(g[x]))).limit(count).mapToInt(Integer::intValue).toArray();
        float eps = 1e-2f;
        for (int i : largest) {
            float original = values[i];
            values[i] = original + eps;
            backend.copyFromHost(MemorySegment.ofArray(values), p.value());
            double plus = loss.applyAsDouble(model);
            values[i] = original - eps;
            backend.copyFromHost(MemorySegment.ofArray(values), p.value());
            double minus = loss.applyAsDouble(model);
            values[i] = original;
            backend.copyFromHost(MemorySegment.ofArray(values), p.value());
            double numeric = (plus - minus) / (2 * eps);
            assertTrue(Math.abs(numeric - g[i]) <= 2e-2 * Math.abs(g[i]) + 5e-3,
                    p.name() + "[" + i + "]: analytic " + g[i] + " vs numeric " + numeric);
        }
    }
}
