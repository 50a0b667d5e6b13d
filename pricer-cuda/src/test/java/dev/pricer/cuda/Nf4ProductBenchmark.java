package dev.pricer.cuda;

import dev.pricer.core.backend.Buffer;
import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The NF4 products of one Llama-3.1-8B decoder layer (q, k, v, o, gate, up, down) at {@code M} rows (batch 4 ×
 * sequence 182 = 728), in bf16: the dequantization kernel alone per weight (its memory traffic in GB/s), then the
 * layer's seven forward products in order and its seven input-gradient products in reverse order, over NF4
 * weights and over the same weights in bf16, which NF4 should approach. Prints one JSON line per measurement.
 * The per-weight dequantization times are of single launches timed from the host, so the small weights' are
 * bound by the launch, not by the kernel.
 *
 * <p>Usage: {@code Nf4ProductBenchmark [M] [ITERATIONS]}.
 */
public final class Nf4ProductBenchmark {

    private static final String[] NAMES = {"q", "k", "v", "o", "gate", "up", "down"};
    private static final int[][] SHAPES = {{4096, 4096}, {1024, 4096}, {1024, 4096}, {4096, 4096}, {14336, 4096}, {14336, 4096}, {4096, 14336}};

    private Nf4ProductBenchmark() {
    }

    public static void main(String[] args) {
        int m = args.length > 0 ? Integer.parseInt(args[0]) : 728, iterations = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Cuda cuda = Cuda.shared();
        CudaBackend be = new CudaBackend(cuda, CudaBackend.Precision.BF16);
        int layers = NAMES.length;
        CudaNf4Buffer[] nf4 = new CudaNf4Buffer[layers];
        Buffer[] dense = new Buffer[layers], x = new Buffer[layers], dy = new Buffer[layers], y = new Buffer[layers], dx = new Buffer[layers];
        for (int i = 0; i < layers; i++) {
            int out = SHAPES[i][0], in = SHAPES[i][1];
            float[] values = random(out * in, 0.02, i);
            Nf4Weight w = Nf4Quantizer.quantize(MemorySegment.ofArray(values), new long[]{out, in}, "float32", true);
            nf4[i] = (CudaNf4Buffer) be.uploadNf4(w);
            dense[i] = be.upload(HostTensor.ofFloats(values, out, in), false);
            x[i] = be.upload(HostTensor.ofFloats(random(m * in, 1, 100 + i), m, in), false);
            dy[i] = be.upload(HostTensor.ofFloats(random(m * out, 1, 200 + i), m, out), false);
            y[i] = be.allocateActivations((long) m * out);
            dx[i] = be.allocate(DType.F32, (long) m * in);
            long elements = (long) out * in;
            double bytes = elements / 2.0 + elements * 2.0 + elements / 64.0;
            CudaNf4Buffer weight = nf4[i];
            double ms = time(cuda, iterations, () -> be.dequantize(weight, ElementType.BF16));
            print(NAMES[i] + " " + out + "x" + in, "nf4 dequantize", ms, String.format(Locale.ROOT, ", \"GBps\": %.0f", bytes / ms / 1e6));
        }
        print("layer", "bf16 forward", time(cuda, iterations, () -> {
            for (int i = 0; i < layers; i++) be.matmulABt(x[i], dense[i], y[i], m, SHAPES[i][0], SHAPES[i][1], false);
        }), "");
        print("layer", "nf4 forward", time(cuda, iterations, () -> {
            for (int i = 0; i < layers; i++) be.matmulNf4ABt(x[i], nf4[i], y[i], m, SHAPES[i][0], SHAPES[i][1], false);
        }), "");
        print("layer", "bf16 input gradient", time(cuda, iterations, () -> {
            for (int i = layers - 1; i >= 0; i--) be.matmulAB(dy[i], dense[i], dx[i], m, SHAPES[i][1], SHAPES[i][0], false);
        }), "");
        print("layer", "nf4 input gradient", time(cuda, iterations, () -> {
            for (int i = layers - 1; i >= 0; i--) be.matmulNf4AB(dy[i], nf4[i], dx[i], m, SHAPES[i][1], SHAPES[i][0], false);
        }), "");
    }

    static float[] random(int n, double scale, long seed) {
        float[] a = new float[n];
        IntStream.range(0, (n + 65535) / 65536).parallel().forEach(c -> {
            SplittableRandom rnd = new SplittableRandom(seed * 1_000_003 + c);
            for (int i = c * 65536; i < Math.min(n, (c + 1) * 65536); i++) a[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        });
        return a;
    }

    /** Milliseconds per call, after two warm-up calls, the GPU drained before and after. */
    private static double time(Cuda cuda, int iterations, Runnable call) {
        call.run();
        call.run();
        cuda.synchronize();
        long t0 = System.nanoTime();
        for (int i = 0; i < iterations; i++) call.run();
        cuda.synchronize();
        return (System.nanoTime() - t0) / 1e6 / iterations;
    }

    private static void print(String weight, String what, double ms, String extra) {
        System.out.printf(Locale.ROOT, "{\"weight\": \"%s\", \"what\": \"%s\", \"ms\": %.4f%s}%n", weight, what, ms, extra);
    }
}
