package dev.pricer.core.model;

import dev.pricer.core.Fixtures;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.lora.LoraConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * q, k and v read the same input, so their LoRA down-projections run as one product over their stacked A matrices
 * ({@link LoraDown}). That must give the loss, gradients, logits and generated tokens of running each projection's
 * down-projection on its own, within float32 rounding (the sums run in another order), in training without dropout
 * and in inference; and a training pass with dropout, which draws a mask per projection, must run them one by one,
 * exactly as an adapter bound without stacking does.
 */
class StackedLoraTest {

    private record Step(double loss, List<float[]> grads, float[] logits, int[] generated) {
    }

    private static Step run(boolean stackAttention, double dropout, List<String> targets) {
        try (LlamaModel model = LlamaModel.load(Fixtures.model("tiny-llama"), null, new CpuBackend(), Quantization.NONE)) {
            model.createAdapter(new LoraConfig(4, 8, dropout, targets, false), 5, stackAttention);
            assertEquals(stackAttention, model.layers()[0].attentionDown != null, "q, k and v stacked");
            // B starts at zero, which would leave A's gradients zero: a nudge per tensor makes every gradient non-trivial.
            List<Parameter> params = model.trainableParameters();
            for (int i = 0; i < params.size(); i++) {
                Parameter p = params.get(i);
                model.backend().fill(p.value(), (p.name().contains("lora_B") ? 0.01f : 0.02f) * (1 + i % 5));
            }
            model.seedDropout(11);
            Batch batch = Fixtures.batch(Fixtures.expected("tiny-llama"), "");
            model.zeroGradients();
            double loss = model.forwardBackward(batch, 1f / batch.labelTokens()).sum();
            List<float[]> grads = params.stream().map(p -> model.download(p.grad(), p.shape()).toFloatArray()).toList();
            return new Step(loss, grads, model.logits(batch).toFloatArray(), model.generateGreedy(new int[]{1, 17, 300, 42}, 6));
        }
    }

    private static void assertClose(Step stacked, Step separate, double tolerance) {
        assertEquals(separate.loss(), stacked.loss(), tolerance * Math.abs(separate.loss()), "loss");
        assertEquals(separate.grads().size(), stacked.grads().size());
        for (int i = 0; i < separate.grads().size(); i++) {
            float[] want = separate.grads().get(i), got = stacked.grads().get(i);
            float scale = 0;
            for (float v : want) scale = Math.max(scale, Math.abs(v));
            assertTrue(scale > 0, "gradient " + i + " is all zero");
            for (int j = 0; j < want.length; j++) assertEquals(want[j], got[j], tolerance * scale, "gradient " + i + "[" + j + "]");
        }
        for (int j = 0; j < separate.logits().length; j++) assertEquals(separate.logits()[j], stacked.logits()[j], 1e-5, "logit " + j);
        assertArrayEquals(separate.generated(), stacked.generated(), "generated tokens");
    }

    @Test
    void stackedQkvDownProjectionsMatchSeparateOnesWithoutDropout() {
        assertClose(run(true, 0, LoraConfig.ALL_PROJECTIONS), run(false, 0, LoraConfig.ALL_PROJECTIONS), 1e-5);
    }

    @Test
    void twoOfTheThreeStackWhereOnlyTheyAreAdapted() {
        List<String> qv = List.of("q_proj", "v_proj", "down_proj");
        assertClose(run(true, 0, qv), run(false, 0, qv), 1e-5);
    }

    @Test
    void dropoutRunsEachProjectionOnItsOwnBitForBit() {
        Step stacked = run(true, 0.1, LoraConfig.ALL_PROJECTIONS), separate = run(false, 0.1, LoraConfig.ALL_PROJECTIONS);
        assertEquals(Double.doubleToRawLongBits(separate.loss()), Double.doubleToRawLongBits(stacked.loss()), "loss");
        for (int i = 0; i < separate.grads().size(); i++) assertArrayEquals(separate.grads().get(i), stacked.grads().get(i), "gradient " + i);
        assertNotEquals(run(false, 0, LoraConfig.ALL_PROJECTIONS).loss(), separate.loss(), "dropout changes the loss");
    }

    @Test
    void onlyTheAttentionInputStacks() {
        try (LlamaModel model = LlamaModel.load(Fixtures.model("tiny-llama"), null, new CpuBackend(), Quantization.NONE)) {
            model.createAdapter(new LoraConfig(4, 8, 0, List.of("k_proj", "o_proj"), false), 5);
            assertNull(model.layers()[0].attentionDown, "one adapted projection has nothing to stack with");
            model.createAdapter(new LoraConfig(4, 8, 0, LoraConfig.ALL_PROJECTIONS, false), 5);
            LoraDown down = model.layers()[1].attentionDown;
            assertNotNull(down);
            assertEquals(12, down.rank());
            assertEquals(12L * 64, down.a().length());
        }
    }
}
