package dev.pricer.cuda;

import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.Nf4Buffer;
import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The NF4 products of one Llama-3.1-8B decoder layer (q, k, v, o, gate, up, down) at {@code M} rows (batch 4 ×
 * sequence 182 = 728), in bf16: the layer's seven forward products in order and its seven input-gradient products in
 * reverse order, over the same weights in bf16 and in NF4, which NF4 should approach: dequantized into scratch
 * before each cuBLASLt product, and, on Hopper, decoded inside the product (nf4_gemm.cu). GPU time by CUDA events ({@link GpuTimer}); a layer's weights
 * (436 MB in bf16) far exceed the L2 cache, so each product reads its weight from memory, as in training. Prints one
 * JSON line per measurement; {@code Nf4DequantBenchmark} times the dequantization kernels alone.
 *
 * <p>Usage: {@code Nf4ProductBenchmark [M] [ITERATIONS]}.
 */
public final class Nf4ProductBenchmark {

    private static final int[][] SHAPES = {{4096, 4096}, {1024, 4096}, {1024, 4096}, {4096, 4096}, {14336, 4096}, {14336, 4096}, {4096, 14336}};

    private Nf4ProductBenchmark() {
    }

    public static void main(String[] args) {
        int m = args.length > 0 ? Integer.parseInt(args[0]) : 728, iterations = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Cuda cuda = Cuda.shared();
        CudaBackend be = new CudaBackend(cuda, CudaBackend.Precision.BF16);
        int layers = SHAPES.length;
        Nf4Buffer[] nf4 = new Nf4Buffer[layers];
        Buffer[] dense = new Buffer[layers], x = new Buffer[layers], dy = new Buffer[layers], y = new Buffer[layers], dx = new Buffer[layers];
        for (int i = 0; i < layers; i++) {
            int out = SHAPES[i][0], in = SHAPES[i][1];
            float[] values = random(out * in, 0.02, i);
            nf4[i] = be.uploadNf4(Nf4Quantizer.quantize(MemorySegment.ofArray(values), new long[]{out, in}, "float32", true));
            dense[i] = be.upload(HostTensor.ofFloats(values, out, in), false);
            x[i] = be.upload(HostTensor.ofFloats(random(m * in, 1, 100 + i), m, in), false);
            dy[i] = be.upload(HostTensor.ofFloats(random(m * out, 1, 200 + i), m, out), false);
            y[i] = be.allocateActivations((long) m * out);
            dx[i] = be.allocate(DType.F32, (long) m * in);
        }
        print(cuda, "bf16 forward", iterations, () -> {
            for (int i = 0; i < layers; i++) be.matmulABt(x[i], dense[i], y[i], m, SHAPES[i][0], SHAPES[i][1], false);
        });
        print(cuda, "bf16 input gradient", iterations, () -> {
            for (int i = layers - 1; i >= 0; i--) be.matmulAB(dy[i], dense[i], dx[i], m, SHAPES[i][1], SHAPES[i][0], false);
        });
        printNf4(cuda, "nf4", be, nf4, x, dy, y, dx, m, iterations);
        if (new Kernels(cuda).nf4GemmAvailable()) {
            printNf4(cuda, "nf4 fused", new CudaBackend(cuda, CudaBackend.Precision.BF16, null, true), nf4, x, dy, y, dx, m, iterations);
        }
    }

    /** The layer's NF4 forward and input-gradient products through {@code be}. */
    private static void printNf4(Cuda cuda, String label, CudaBackend be, Nf4Buffer[] nf4, Buffer[] x, Buffer[] dy, Buffer[] y, Buffer[] dx,
                                 int m, int iterations) {
        print(cuda, label + " forward", iterations, () -> {
            for (int i = 0; i < SHAPES.length; i++) be.matmulNf4ABt(x[i], nf4[i], y[i], m, SHAPES[i][0], SHAPES[i][1], false);
        });
        print(cuda, label + " input gradient", iterations, () -> {
            for (int i = SHAPES.length - 1; i >= 0; i--) be.matmulNf4AB(dy[i], nf4[i], dx[i], m, SHAPES[i][1], SHAPES[i][0], false);
        });
    }

    static float[] random(int n, double scale, long seed) {
        float[] a = new float[n];
        IntStream.range(0, (n + 65535) / 65536).parallel().forEach(c -> {
            SplittableRandom rnd = new SplittableRandom(seed * 1_000_003 + c);
            for (int i = c * 65536; i < Math.min(n, (c + 1) * 65536); i++) a[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale);
        });
        return a;
    }

    private static void print(Cuda cuda, String what, int iterations, Runnable layer) {
        GpuTimer.Result r = GpuTimer.millisPerCall(cuda, iterations, i -> layer.run());
        System.out.printf(Locale.ROOT, "{\"layer\": \"%s\", \"ms\": %.4f, \"gpu_bound\": %b}%n", what, r.millis(), r.gpuBound());
    }
}
