package dev.pricer.cuda;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static dev.pricer.cuda.GpuTestSupport.*;

/**
 * LoRA's scaled products ({@code matmulABtScaled}, {@code matmulAtBtScaled}), which the CUDA backend runs with the
 * scaling as the product's alpha, against the CPU backend's product-then-scale: in float32, and in bf16
 * precision into bf16 activation storage, where a separate scaling pass could not run.
 */
class ScaledProductsTest {

    private static final int M = 96, N = 32, K = 200;
    private static final float ALPHA = 1.75f;

    private static Buffer floats(Backend be, float[] v) {
        Buffer b = be.allocate(DType.F32, v.length);
        try (Arena arena = Arena.ofConfined()) {
            be.copyFromHost(arena.allocateFrom(ValueLayout.JAVA_FLOAT, v), b);
        }
        return b;
    }

    private static double[] values(Backend be, Buffer b) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(b.length() * Float.BYTES);
            be.copyToHost(b, host);
            double[] d = new double[(int) b.length()];
            for (int i = 0; i < d.length; i++) d[i] = host.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            return d;
        }
    }

    private static float[] asFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    @Test
    void scaledProductsMatchTheCpuInBothPrecisions() {
        SplittableRandom rnd = new SplittableRandom(17);
        float[] x = random(rnd, M * K, 1), a = random(rnd, N * K, 1), b = random(rnd, K * M, 1), dy = random(rnd, N * K, 1);
        double[] wantDown, wantGrad;
        try (CpuBackend cpu = new CpuBackend()) {
            Buffer u = cpu.allocate(DType.F32, (long) M * N), du = cpu.allocate(DType.F32, (long) M * N);
            cpu.matmulABtScaled(floats(cpu, x), floats(cpu, a), u, M, N, K, ALPHA);
            cpu.matmulAtBtScaled(floats(cpu, b), floats(cpu, dy), du, M, N, K, ALPHA);
            wantDown = values(cpu, u);
            wantGrad = values(cpu, du);
        }
        for (CudaBackend.Precision precision : CudaBackend.Precision.values()) {
            CudaBackend gpu = new CudaBackend(cuda(), precision);
            Buffer u = gpu.allocateActivations((long) M * N), du = gpu.allocateActivations((long) M * N);
            gpu.fill(u, Float.NaN);
            gpu.fill(du, Float.NaN);
            gpu.matmulABtScaled(floats(gpu, x), floats(gpu, a), u, M, N, K, ALPHA);
            gpu.matmulAtBtScaled(floats(gpu, b), floats(gpu, dy), du, M, N, K, ALPHA);
            double tolerance = precision == CudaBackend.Precision.FLOAT32 ? 1e-6 : 1e-2;
            assertClose("x·Aᵀ scaled, " + precision, asFloats(values(gpu, u)), wantDown, tolerance);
            assertClose("Bᵀ·dyᵀ scaled, " + precision, asFloats(values(gpu, du)), wantGrad, tolerance);
        }
    }
}
