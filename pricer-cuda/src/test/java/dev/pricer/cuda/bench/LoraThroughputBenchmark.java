package dev.pricer.cuda.bench;

import dev.pricer.core.backend.AdamW;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.lora.LoraConfig;
import dev.pricer.core.model.Batch;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.model.Parameter;
import dev.pricer.core.model.Quantization;
import dev.pricer.core.tensor.DType;
import dev.pricer.cuda.CudaBackend;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * LoRA training-step throughput of the engine on the CUDA backend, set up as the peer
 * ({@code shared/peers/hf_lora_throughput.py}) is: random weights of a real Llama shape (bf16), LoRA r 32,
 * alpha 64 over q, k, v and o, float32 adapter and AdamW state, loss on the last 4 tokens of each sequence,
 * clipping at 1.0; 3 warm-up steps, then {@code steps} timed ones. Prints one JSON line per setting.
 *
 * <p>Usage: {@code LoraThroughputBenchmark SHAPE BATCH SEQ [STEPS] [MODEL_CACHE_DIR] [--quantize=nf4]
 * [--gradient-checkpointing=on,off]}. {@code --quantize=nf4} loads the base as QLoRA does (decoder projections
 * in NF4 with double quantization, quantized at load). Several checkpointing settings are measured one after
 * the other on the one loaded model, smallest memory first, so each one's peak is its own.
 */
public final class LoraThroughputBenchmark {

    private LoraThroughputBenchmark() {
    }

    public static void main(String[] allArgs) throws Exception {
        String[] args = java.util.Arrays.stream(allArgs).filter(a -> !a.startsWith("--")).toArray(String[]::new);
        Quantization quantization = Quantization.NONE;
        List<Boolean> checkpointing = List.of(false);
        for (String a : allArgs) {
            if (a.startsWith("--quantize=")) quantization = Quantization.parse(a.substring("--quantize=".length()));
            else if (a.startsWith("--gradient-checkpointing=")) {
                checkpointing = java.util.Arrays.stream(a.substring("--gradient-checkpointing=".length()).split(",")).map(v -> switch (v) {
                    case "on" -> true;
                    case "off" -> false;
                    default -> throw new IllegalArgumentException("--gradient-checkpointing takes on, off or both (on,off), not " + v);
                }).toList();
            } else if (a.startsWith("--")) throw new IllegalArgumentException("unknown option " + a);
        }
        RandomLlama shape = RandomLlama.shape(args[0]);
        int batchSize = Integer.parseInt(args[1]), seq = Integer.parseInt(args[2]);
        int steps = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        Path dir = Path.of(args.length > 4 ? args[4] : "bench-models").resolve(shape.name());
        long t0 = System.nanoTime();
        if (!Files.exists(dir.resolve("model.safetensors"))) shape.write(dir, 0);
        double writeS = (System.nanoTime() - t0) / 1e9;

        CudaBackend backend = new CudaBackend(CudaBackend.Precision.BF16);
        t0 = System.nanoTime();
        try (LlamaModel model = LlamaModel.load(dir, null, backend, quantization)) {
            int r = 32;
            model.createAdapter(new LoraConfig(r, 2 * r, 0.0, List.of("q_proj", "k_proj", "v_proj", "o_proj"), false), 0);
            double loadS = (System.nanoTime() - t0) / 1e9;
            Batch batch = batch(batchSize, seq);
            List<Parameter> params = model.trainableParameters();
            Buffer[] m = new Buffer[params.size()], v = new Buffer[params.size()];
            for (int i = 0; i < params.size(); i++) {
                m[i] = backend.allocate(DType.F32, params.get(i).value().length());
                v[i] = backend.allocate(DType.F32, params.get(i).value().length());
            }
            for (boolean ckpt : checkpointing) {
                model.setGradientCheckpointing(ckpt);
                // The previous setting's buffers go back to the device before this one's peak is measured.
                System.gc();
                Thread.sleep(500);
                backend.synchronize();
                backend.resetPeakMemory();
                double loss = 0;
                for (int s = 1; s <= 3; s++) loss = step(model, backend, batch, params, m, v, s);
                backend.synchronize();
                long start = System.nanoTime();
                for (int s = 4; s < 4 + steps; s++) loss = step(model, backend, batch, params, m, v, s);
                backend.synchronize();
                double stepS = (System.nanoTime() - start) / 1e9 / steps;
                long[] memory = backend.cuda().memoryInfo();
                if (System.getenv("PRICER_BENCH_PROFILE") != null) profile(model, backend, batch, params, m, v, shape);
                double tokensPerS = batchSize * seq / stepS;
                System.out.println(String.format(Locale.ROOT,
                        "{\"impl\": \"pricer-cuda\", \"shape\": \"%s\", \"batch\": %d, \"seq\": %d, \"lora_r\": %d, \"quantize\": \"%s\", "
                                + "\"gradient_checkpointing\": %b, \"step_s\": %.4f, "
                                + "\"tokens_per_s\": %.1f, \"peak_mem_gib\": %.2f, \"device_used_gib\": %.2f, \"n_params\": %d, \"model_tflops_4N\": %.1f, "
                                + "\"loss\": %.4f, \"gpu\": \"%s\", \"write_s\": %.1f, \"load_s\": %.1f}",
                        shape.name(), batchSize, seq, r, quantization.flagName(), ckpt, stepS, tokensPerS,
                        backend.peakMemoryBytes() / (double) (1L << 30), (memory[1] - memory[0]) / (double) (1L << 30),
                        shape.parameters(), 4.0 * shape.matmulParameters() * tokensPerS / 1e12, loss,
                        backend.cuda().deviceName(), writeS, loadS));
            }
        }
    }

    /**
     * Where a step's time goes: host time to enqueue the forward and backward pass against its time on the GPU,
     * the optimizer, and attention alone over all layers. Printed to stderr.
     */
    private static void profile(LlamaModel model, CudaBackend backend, Batch batch, List<Parameter> params, Buffer[] m, Buffer[] v,
                                RandomLlama shape) {
        backend.synchronize();
        long t0 = System.nanoTime();
        model.zeroGradients();
        model.forwardBackward(batch, 1f / batch.labelTokens());
        long enqueued = System.nanoTime();
        backend.synchronize();
        long done = System.nanoTime();
        step(model, backend, batch, params, m, v, 100);
        backend.synchronize();
        long full = System.nanoTime();
        int rows = batch.batchSize() * batch.seqLen(), hd = shape.headDim();
        var s = new dev.pricer.core.backend.AttentionShape(batch.batchSize(), batch.seqLen(), batch.seqLen(), 0, shape.heads(), shape.kvHeads(), hd);
        // as in training: q, k, v and the output kept as activations, gradients in float
        Buffer q = backend.allocateActivations((long) rows * shape.heads() * hd), kv = backend.allocateActivations((long) rows * shape.kvHeads() * hd);
        Buffer kv2 = backend.allocateActivations(kv.length()), o = backend.allocateActivations(q.length());
        Buffer dout = backend.allocate(DType.F32, q.length()), dk = backend.allocate(DType.F32, kv.length()), dv = backend.allocate(DType.F32, kv.length());
        Buffer dq = backend.allocate(DType.F32, q.length()), lse = backend.allocate(DType.F32, backend.attentionSavedLength(s));
        Buffer lengths = backend.allocate(DType.I32, batch.batchSize());
        backend.copyFromHost(java.lang.foreign.MemorySegment.ofArray(batch.validLengths()), lengths);
        backend.fill(q, 0.01f);
        backend.fill(kv, 0.02f);
        backend.fill(dout, 0.03f);
        backend.synchronize();
        long a0 = System.nanoTime();
        for (int l = 0; l < shape.layers(); l++) backend.attentionForward(q, kv, kv2, lengths, o, lse, s);
        backend.synchronize();
        long a1 = System.nanoTime();
        for (int l = 0; l < shape.layers(); l++) backend.attentionBackward(dout, q, kv, kv2, o, lse, lengths, dq, dk, dv, s);
        backend.synchronize();
        long a2 = System.nanoTime();
        System.err.printf(Locale.ROOT, "profile: forward+backward enqueue %.1f ms, on GPU %.1f ms; full step %.1f ms; attention over %d layers: forward %.1f ms, backward %.1f ms%n",
                (enqueued - t0) / 1e6, (done - t0) / 1e6, (full - done) / 1e6, shape.layers(), (a1 - a0) / 1e6, (a2 - a1) / 1e6);
    }

    /** Random ids below 128000, the label on the last 4 positions, as the peer. */
    private static Batch batch(int batchSize, int seq) {
        SplittableRandom rnd = new SplittableRandom(0);
        int[] ids = new int[batchSize * seq], labels = new int[batchSize * seq];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = rnd.nextInt(128000);
            labels[i] = i % seq >= seq - 4 ? ids[i] : Batch.IGNORE;
        }
        return new Batch(batchSize, seq, ids, labels, null);
    }

    /** As the trainer's step (LlamaTrainable): the global norm in one reduction, clipping fused into AdamW. */
    private static double step(LlamaModel model, Backend backend, Batch batch, List<Parameter> params, Buffer[] m, Buffer[] v, int step) {
        model.zeroGradients();
        double loss = model.forwardBackward(batch, 1f / batch.labelTokens()).mean();
        List<Buffer> grads = params.stream().map(Parameter::grad).toList();
        float clip = (float) Math.min(1.0, 1.0 / (Math.sqrt(backend.sumOfSquares(grads)) + 1e-6));
        AdamW hyper = new AdamW(1e-4f, 0.9f, 0.999f, 1e-8f, 0.01f, step);
        backend.adamw(params.stream().map(Parameter::value).toList(), grads, List.of(m), List.of(v), hyper, clip);
        return loss;
    }
}
