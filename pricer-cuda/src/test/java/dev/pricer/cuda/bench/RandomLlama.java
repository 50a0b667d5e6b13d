package dev.pricer.cuda.bench;

import dev.pricer.core.safetensors.SafeTensorsWriter;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * A Llama model of a real shape with random bf16 weights, written as a Hugging Face folder (config.json +
 * model.safetensors), so the benchmark loads it the way a user's model is loaded. Weights are uniform with the
 * standard deviation of transformers' initialiser (0.02); norms are 1.
 */
public record RandomLlama(String name, int hidden, int intermediate, int layers, int heads, int kvHeads, boolean tied) {

    public static final int VOCAB = 128256;

    public static RandomLlama shape(String name) {
        return switch (name) {
            case "llama-1b" -> new RandomLlama(name, 2048, 8192, 16, 32, 8, true);
            case "llama-3b" -> new RandomLlama(name, 3072, 8192, 28, 24, 8, true);
            case "llama-8b" -> new RandomLlama(name, 4096, 14336, 32, 32, 8, false);
            default -> throw new IllegalArgumentException("unknown shape " + name + " (llama-1b, llama-3b, llama-8b)");
        };
    }

    int headDim() {
        return hidden / heads;
    }

    /** Parameters of the model, and those the 4N FLOPs rule counts (all but the input embedding, plus the head). */
    long parameters() {
        long perLayer = (long) hidden * (heads * headDim()) * 2 + (long) hidden * (kvHeads * headDim()) * 2
                + 3L * hidden * intermediate + 2L * hidden;
        return layers * perLayer + hidden + (long) VOCAB * hidden * (tied ? 1 : 2);
    }

    long matmulParameters() {
        return parameters() - (long) VOCAB * hidden * (tied ? 1 : 2) + (long) VOCAB * hidden;
    }

    public Path write(Path dir, long seed) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), """
                    {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_act": "silu",
                     "vocab_size": %d, "hidden_size": %d, "intermediate_size": %d, "num_hidden_layers": %d,
                     "num_attention_heads": %d, "num_key_value_heads": %d, "head_dim": %d, "rms_norm_eps": 1e-05,
                     "rope_theta": 500000.0, "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "max_position_embeddings": 131072,
                     "tie_word_embeddings": %b, "bos_token_id": 128000, "eos_token_id": 128001, "torch_dtype": "bfloat16"}
                    """.formatted(VOCAB, hidden, intermediate, layers, heads, kvHeads, headDim(), tied));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int qDim = heads * headDim(), kvDim = kvHeads * headDim();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[]{VOCAB, hidden});
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            shapes.put(p + "self_attn.q_proj.weight", new long[]{qDim, hidden});
            shapes.put(p + "self_attn.k_proj.weight", new long[]{kvDim, hidden});
            shapes.put(p + "self_attn.v_proj.weight", new long[]{kvDim, hidden});
            shapes.put(p + "self_attn.o_proj.weight", new long[]{hidden, qDim});
            shapes.put(p + "mlp.gate_proj.weight", new long[]{intermediate, hidden});
            shapes.put(p + "mlp.up_proj.weight", new long[]{intermediate, hidden});
            shapes.put(p + "mlp.down_proj.weight", new long[]{hidden, intermediate});
            shapes.put(p + "input_layernorm.weight", new long[]{hidden});
            shapes.put(p + "post_attention_layernorm.weight", new long[]{hidden});
        }
        shapes.put("model.norm.weight", new long[]{hidden});
        if (!tied) shapes.put("lm_head.weight", new long[]{VOCAB, hidden});
        try (Arena arena = Arena.ofShared()) {
            Map<String, HostTensor> tensors = new LinkedHashMap<>();
            long[] counter = {seed};
            shapes.forEach((name, shape) -> tensors.put(name, random(arena, shape, counter[0]++)));
            SafeTensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        }
        return dir;
    }

    private static final ValueLayout.OfShort BF16 = ValueLayout.JAVA_SHORT_UNALIGNED;

    private static HostTensor random(Arena arena, long[] shape, long seed) {
        long n = HostTensor.elementCount(shape);
        MemorySegment data = arena.allocate(n * 2, 8);
        if (shape.length == 1) {
            for (long i = 0; i < n; i++) data.setAtIndex(BF16, i, (short) 0x3f80);
        } else {
            int chunk = 1 << 20;
            int chunks = (int) ((n + chunk - 1) / chunk);
            double bound = 0.02 * Math.sqrt(3);
            IntStream.range(0, chunks).parallel().forEach(c -> {
                SplittableRandom rnd = new SplittableRandom(seed * 1_000_003L + c);
                for (long i = (long) c * chunk, end = Math.min(n, i + chunk); i < end; i++) {
                    float v = (float) ((rnd.nextDouble() * 2 - 1) * bound);
                    data.setAtIndex(BF16, i, (short) (Float.floatToRawIntBits(v) >>> 16));
                }
            });
        }
        return new HostTensor(DType.BF16, shape, data);
    }
}
