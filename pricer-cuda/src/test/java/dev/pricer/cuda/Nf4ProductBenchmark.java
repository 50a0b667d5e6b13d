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
 * The NF4 products of the Llama-3.1-8B decoder's weight shapes at {@code M} rows (batch 4 × sequence 182 = 728),
 * in bf16: the dequantization kernel alone (its memory traffic, GB/s), the forward (x·Wᵀ) and input-gradient
 * (dy·W) products with the weight dequantized whole or in chunks of rows of several sizes, and the same products
 * over a bf16 weight, which NF4 should approach. Prints one JSON line per shape and setting.
 *
 * <p>Usage: {@code Nf4ProductBenchmark [M] [ITERATIONS]}.
 */
public final class Nf4ProductBenchmark {

    private static final int[][] SHAPES = {{4096, 4096}, {1024, 4096}, {14336, 4096}, {4096, 14336}};
    private static final long[] CHUNKS = {Long.MAX_VALUE, 4L << 20, 8L << 20, 16L << 20};

    private Nf4ProductBenchmark() {
    }

    public static void main(String[] args) {
        int m = args.length > 0 ? Integer.parseInt(args[0]) : 728, iterations = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Cuda cuda = Cuda.shared();
        CudaBackend be = new CudaBackend(cuda, CudaBackend.Precision.BF16);
        for (int[] shape : SHAPES) {
            int out = shape[0], in = shape[1];
            float[] values = random(out * in, 0.02, out);
            Nf4Weight nf4 = Nf4Quantizer.quantize(MemorySegment.ofArray(values), new long[]{out, in}, "float32", true);
            CudaNf4Buffer w = (CudaNf4Buffer) be.uploadNf4(nf4);
            Buffer dense = be.upload(HostTensor.ofFloats(values, out, in), false);
            Buffer x = be.upload(HostTensor.ofFloats(random(m * in, 1, 1), m, in), false);
            Buffer dy = be.upload(HostTensor.ofFloats(random(m * out, 1, 2), m, out), false);
            Buffer y = be.allocate(DType.BF16, (long) m * out), dx = be.allocate(DType.F32, (long) m * in);
            long elements = (long) out * in;
            double bytes = elements / 2.0 + elements * 2.0 + elements / 64.0;
            double dequant = time(cuda, iterations, () -> be.dequantize(w, ElementType.BF16));
            print(out, in, m, "dequantize", dequant, String.format(Locale.ROOT, ", \"GBps\": %.0f", bytes / dequant / 1e6));
            print(out, in, m, "bf16 forward", time(cuda, iterations, () -> be.matmulABt(x, dense, y, m, out, in, false)), "");
            print(out, in, m, "bf16 input gradient", time(cuda, iterations, () -> be.matmulAB(dy, dense, dx, m, in, out, false)), "");
            for (long chunk : CHUNKS) {
                be.nf4ChunkElements(chunk);
                String name = chunk == Long.MAX_VALUE ? "whole" : (chunk >> 20) + "Mi";
                print(out, in, m, "nf4 forward, chunks " + name, time(cuda, iterations, () -> be.matmulNf4ABt(x, w, y, m, out, in, false)), "");
                print(out, in, m, "nf4 input gradient, chunks " + name, time(cuda, iterations, () -> be.matmulNf4AB(dy, w, dx, m, in, out, false)), "");
            }
        }
    }

    private static float[] random(int n, double scale, long seed) {
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

    private static void print(int out, int in, int m, String what, double ms, String extra) {
        System.out.printf(Locale.ROOT, "{\"weight\": \"%dx%d\", \"m\": %d, \"what\": \"%s\", \"ms\": %.4f%s}%n", out, in, m, what, ms, extra);
    }
}
