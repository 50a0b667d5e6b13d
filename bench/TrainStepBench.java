import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.config.RopeScaling;
import dev.pricer.core.lora.LoraConfig;
import dev.pricer.core.model.Batch;
import dev.pricer.core.model.LlamaModel;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Tokens per second of one LoRA training step (forward + backward) on the CPU backend, for the shape of
 * issue 2: hidden 512, 8 layers, 8 heads, 4 KV heads, vocab 128256, sequence 182, batch 4, r 32 on q, k, v, o.
 * The last 5 tokens of each sequence are labels (a price). The peer is bench/peers/lora_step_torch.py.
 *
 *     java --add-modules jdk.incubator.vector -cp CLASSPATH bench/TrainStepBench.java STEPS
 */
void main(String[] args) {
    int steps = Integer.parseInt(args[0]);
    int batchSize = 4, seqLen = 182, labelTokens = 5;
    LlamaConfig config = new LlamaConfig(128256, 512, 2048, 8, 8, 4, 64, 1e-5, 500000,
            new RopeScaling.Llama3(32, 1, 4, 8192), 131072, true, 1, List.of(2));
    var backend = new CpuBackend();
    try (LlamaModel model = LlamaModel.initialize(config, backend, 0.02, 1, false)) {
        model.createAdapter(new LoraConfig(32, 64, 0, List.of("q_proj", "k_proj", "v_proj", "o_proj"), false), 2);
        SplittableRandom random = new SplittableRandom(0);
        int[] ids = new int[batchSize * seqLen], labels = new int[batchSize * seqLen];
        Arrays.fill(labels, Batch.IGNORE);
        for (int i = 0; i < ids.length; i++) ids[i] = 3 + random.nextInt(config.vocabSize() - 3);
        for (int b = 0; b < batchSize; b++) {
            for (int t = seqLen - labelTokens; t < seqLen; t++) labels[b * seqLen + t] = ids[b * seqLen + t];
        }
        Batch batch = new Batch(batchSize, seqLen, ids, labels, null);
        float scale = 1f / batch.labelTokens();
        model.zeroGradients();
        model.forwardBackward(batch, scale);
        double best = Double.MAX_VALUE;
        for (int s = 0; s < steps; s++) {
            long t0 = System.nanoTime();
            model.zeroGradients();
            model.forwardBackward(batch, scale);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        System.out.printf("# java %s, %d cores%n", Runtime.version(), Runtime.getRuntime().availableProcessors());
        System.out.printf("pricer %.1f tokens/s (best of %d steps: %.3f s)%n", batchSize * seqLen / best, steps, best);
    }
}
