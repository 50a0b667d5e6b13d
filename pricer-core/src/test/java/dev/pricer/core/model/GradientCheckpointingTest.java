package dev.pricer.core.model;

import dev.pricer.core.Fixtures;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.lora.LoraConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Activation checkpointing recomputes each layer's forward pass inside the backward pass with the same kernels
 * on the same inputs; it must change nothing but memory. The CPU backend is deterministic, so losses and
 * gradients are compared bit for bit.
 */
class GradientCheckpointingTest {

    private record Step(double loss, List<float[]> grads) {
    }

    /** Two steps (so plans are reused), LoRA dropout on: the recomputed pass must draw the same masks. */
    private static List<Step> run(LlamaModel model, boolean checkpointing) {
        model.setGradientCheckpointing(checkpointing);
        model.seedDropout(99);
        Batch batch = Fixtures.batch(Fixtures.expected("tiny-llama"), "");
        List<Step> steps = new ArrayList<>();
        for (int s = 0; s < 2; s++) {
            model.zeroGradients();
            double loss = model.forwardBackward(batch, 1f / batch.labelTokens()).sum();
            steps.add(new Step(loss, model.trainableParameters().stream().map(p -> model.download(p.grad(), p.shape()).toFloatArray()).toList()));
        }
        return steps;
    }

    private static void assertSameTraining(Supplier<LlamaModel> load) {
        List<Step> plain, checkpointed;
        try (LlamaModel model = load.get()) {
            plain = run(model, false);
            checkpointed = run(model, true);
            assertTrue(model.gradientCheckpointing());
        }
        for (int s = 0; s < plain.size(); s++) {
            Step a = plain.get(s), b = checkpointed.get(s);
            assertEquals(Double.doubleToRawLongBits(a.loss()), Double.doubleToRawLongBits(b.loss()), "loss of step " + s);
            assertEquals(a.grads().size(), b.grads().size());
            for (int i = 0; i < a.grads().size(); i++) {
                float[] ref = a.grads().get(i);
                assertArrayEquals(ref, b.grads().get(i), "gradient " + i + " of step " + s);
                boolean nonZero = false;
                for (float v : ref) nonZero |= v != 0;
                assertTrue(nonZero, "gradient " + i + " is all zero");
            }
        }
    }

    private static LlamaModel withAdapter(Quantization quantization) {
        LlamaModel model = LlamaModel.load(Fixtures.model("tiny-llama"), null, new CpuBackend(), quantization);
        model.createAdapter(new LoraConfig(4, 8, 0.1, LoraConfig.ALL_PROJECTIONS, false), 5);
        // B starts at zero, which would leave A's gradients zero: one nudge makes every LoRA gradient non-trivial.
        for (Parameter p : model.trainableParameters()) model.backend().fill(p.value(), p.name().contains("lora_B") ? 0.01f : 0.02f);
        return model;
    }

    @Test
    void loraLossesAndGradientsAreTheSameWithCheckpointing() {
        assertSameTraining(() -> withAdapter(Quantization.NONE));
    }

    @Test
    void loraOnAnNf4BaseIsTheSameWithCheckpointing() {
        assertSameTraining(() -> withAdapter(Quantization.NF4));
    }

    @Test
    void fullTrainingGradientsAreTheSameWithCheckpointing() {
        assertSameTraining(() -> LlamaModel.loadForFullTraining(Fixtures.model("tiny-llama"), new CpuBackend()));
    }
}
