package dev.pricer.bench;

import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.backend.cpu.CpuThreads;
import dev.pricer.core.lora.LoraConfig;
import dev.pricer.core.model.Batch;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.model.Quantization;
import dev.pricer.core.safetensors.SafeTensorsWriter;
import dev.pricer.core.tensor.HostTensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Tokens per second of one LoRA training step (forward and backward, gradients of the adapter only) on the CPU,
 * for the model of issue 2: hidden 512, 8 layers, 8 heads, 4 KV heads, vocabulary 128256 (tied embeddings,
 * as Llama 3.2), sequence 182, batch 4, r 32 over q, k, v and o, loss on the last {@value #LABELS} positions of
 * each sequence (the price tokens of a prompt). {@code bench/lora_step.sh} runs it next to
 * {@code bench/peers/torch_lora_step.py}, which builds the same model in PyTorch.
 *
 * <p>Usage: {@code LoraStepBench MODEL_DIR [STEPS] [QUANTIZE]}. A random model is written to MODEL_DIR (config.json and
 * model.safetensors) the first time and loaded, memory-mapped, as a real checkpoint would be; QUANTIZE {@code nf4}
 * holds its decoder projections in NF4 (QLoRA; {@code bench/nf4_cpu.sh} compares it with float32). Besides the
 * training step it times the forward pass alone (inference: the loss, no gradients) on the same batch.
 */
public final class LoraStepBench {

    static final int HIDDEN = 512, INTERMEDIATE = 2048, LAYERS = 8, HEADS = 8, KV_HEADS = 4, HEAD_DIM = 64;
    static final int VOCAB = 128256, SEQ = 182, BATCH = 4, RANK = 32, ALPHA = 64, LABELS = 4;
    static final double DROPOUT = 0.05;

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: LoraStepBench MODEL_DIR [STEPS] [none|nf4]");
            System.exit(2);
        }
        Path modelDir = Path.of(args[0]);
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Quantization quantization = Quantization.parse(args.length > 2 ? args[2] : "none");
        if (!Files.exists(modelDir.resolve("model.safetensors"))) writeRandomModel(modelDir, 1);

        try (LlamaModel model = LlamaModel.load(modelDir, null, new CpuBackend(), quantization)) {
            model.createAdapter(new LoraConfig(RANK, ALPHA, DROPOUT, List.of("q_proj", "k_proj", "v_proj", "o_proj"), false), 2);
            model.seedDropout(3);
            Batch batch = batch(4);
            System.out.println("# pricer LlamaModel.forwardBackward, threads=" + CpuThreads.count() + ", base " + quantization.flagName());
            for (int i = 0; i < 2; i++) step(model, batch);
            double[] seconds = new double[steps];
            double loss = 0;
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                loss = step(model, batch);
                seconds[i] = (System.nanoTime() - t0) / 1e9;
            }
            report("step", seconds, loss);
            double[] forward = new double[steps];
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                loss = model.loss(batch).mean();
                forward[i] = (System.nanoTime() - t0) / 1e9;
            }
            report("forward", forward, loss);
        }
    }

    private static double step(LlamaModel model, Batch batch) {
        model.zeroGradients();
        long tokens = batch.labelTokens();
        return model.forwardBackward(batch, 1f / tokens).sum() / tokens;
    }

    /** Prints {@code what best_seconds median_seconds tokens_per_second(best) loss}, the format the scripts read. */
    static void report(String what, double[] seconds, double loss) {
        double[] sorted = seconds.clone();
        Arrays.sort(sorted);
        double best = sorted[0], median = sorted[sorted.length / 2];
        System.out.printf("%s %.4f %.4f %.1f %.4f%n", what, best, median, BATCH * SEQ / best, loss);
    }

    /** Random token ids; labels are the inputs on the last LABELS positions of each row and -100 elsewhere. */
    static Batch batch(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] ids = new int[BATCH * SEQ], labels = new int[BATCH * SEQ];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = random.nextInt(VOCAB);
            labels[i] = i % SEQ >= SEQ - LABELS ? ids[i] : Batch.IGNORE;
        }
        return new Batch(BATCH, SEQ, ids, labels, null);
    }

    private static void writeRandomModel(Path dir, long seed) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), """
                {
                  "architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "float32",
                  "hidden_size": %d, "intermediate_size": %d, "num_hidden_layers": %d,
                  "num_attention_heads": %d, "num_key_value_heads": %d, "head_dim": %d, "vocab_size": %d,
                  "hidden_act": "silu", "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
                  "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                   "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                  "max_position_embeddings": 131072, "tie_word_embeddings": true,
                  "bos_token_id": 128000, "eos_token_id": 128001, "attention_bias": false, "mlp_bias": false
                }
                """.formatted(HIDDEN, INTERMEDIATE, LAYERS, HEADS, KV_HEADS, HEAD_DIM, VOCAB));
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("model.embed_tokens.weight", normal(random, VOCAB, HIDDEN));
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            tensors.put(p + "input_layernorm.weight", ones(HIDDEN));
            tensors.put(p + "self_attn.q_proj.weight", normal(random, HEADS * HEAD_DIM, HIDDEN));
            tensors.put(p + "self_attn.k_proj.weight", normal(random, KV_HEADS * HEAD_DIM, HIDDEN));
            tensors.put(p + "self_attn.v_proj.weight", normal(random, KV_HEADS * HEAD_DIM, HIDDEN));
            tensors.put(p + "self_attn.o_proj.weight", normal(random, HIDDEN, HEADS * HEAD_DIM));
            tensors.put(p + "post_attention_layernorm.weight", ones(HIDDEN));
            tensors.put(p + "mlp.gate_proj.weight", normal(random, INTERMEDIATE, HIDDEN));
            tensors.put(p + "mlp.up_proj.weight", normal(random, INTERMEDIATE, HIDDEN));
            tensors.put(p + "mlp.down_proj.weight", normal(random, HIDDEN, INTERMEDIATE));
        }
        tensors.put("model.norm.weight", ones(HIDDEN));
        SafeTensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
    }

    private static HostTensor normal(SplittableRandom random, int rows, int cols) {
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            double u1 = 1.0 - random.nextDouble(), u2 = random.nextDouble();
            values[i] = (float) (0.02 * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
        }
        return HostTensor.ofFloats(values, rows, cols);
    }

    private static HostTensor ones(int n) {
        float[] values = new float[n];
        Arrays.fill(values, 1f);
        return HostTensor.ofFloats(values, n);
    }
}
