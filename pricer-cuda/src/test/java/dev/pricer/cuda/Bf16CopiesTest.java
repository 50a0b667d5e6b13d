package dev.pricer.cuda;

import dev.pricer.core.backend.AdamW;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;

import static dev.pricer.cuda.GpuTestSupport.*;

/**
 * BF16 precision's products read float operands through bf16 copies kept until the buffer is written. Every way
 * the backend writes a float buffer must make its copy stale (or, for AdamW, rewrite it), or a product would read
 * old values: a product's output, a host copy, a fill through a slice, an axpy, AdamW; and large operands that
 * share a staging slot must not read each other's copies.
 */
class Bf16CopiesTest {

    private final SplittableRandom rnd = new SplittableRandom(5);
    private final CudaBackend be = new CudaBackend(cuda(), CudaBackend.Precision.BF16);

    private Buffer floats(float[] values) {
        Buffer b = be.allocate(DType.F32, values.length);
        try (Arena arena = Arena.ofConfined()) {
            be.copyFromHost(arena.allocateFrom(ValueLayout.JAVA_FLOAT, values), b);
        }
        return b;
    }

    /** c = a·bᵀ from the bf16 roundings of a [m×k] and b [n×k], in double. */
    private static double[] reference(float[] a, float[] b, int m, int n, int k) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double) bf16ToFloat(floatToBf16(a[i * k + p])) * bf16ToFloat(floatToBf16(b[j * k + p]));
                c[i * n + j] = s;
            }
        }
        return c;
    }

    private void assertProduct(String what, Buffer a, Buffer b, int m, int n, int k) {
        Buffer c = be.allocate(DType.F32, (long) m * n);
        be.matmulABt(a, b, c, m, n, k, false);
        assertClose(what, be.toFloats(c), reference(be.toFloats(a), be.toFloats(b), m, n, k), 1e-5);
    }

    @Test
    void everyWriteMakesTheCopyOfAFloatOperandStale() {
        int m = 24, n = 16, k = 40;
        Buffer x = floats(random(rnd, m * k, 1)), w = floats(random(rnd, n * k, 1));
        assertProduct("first product", x, w, m, n, k);
        try (Arena arena = Arena.ofConfined()) {
            be.copyFromHost(arena.allocateFrom(ValueLayout.JAVA_FLOAT, random(rnd, n * k, 1)), w);
        }
        assertProduct("after a host copy", x, w, m, n, k);
        be.fill(w.slice(k, 3L * k), 0.25f);
        assertProduct("after a fill through a slice", x, w, m, n, k);
        be.axpy(0.5f, floats(random(rnd, n * k, 1)), w);
        assertProduct("after an axpy", x, w, m, n, k);
        be.matmulABt(floats(random(rnd, n * m, 1)), floats(random(rnd, k * m, 1)), w, n, k, m, true);
        assertProduct("after being a product's output", x, w, m, n, k);
        be.scale(x, -3f);
        assertProduct("after scaling the other operand", x, w, m, n, k);
    }

    @Test
    void adamwRewritesTheCopyItKeeps() {
        int m = 8, n = 32, k = 64;
        Buffer x = floats(random(rnd, m * k, 1)), w = floats(random(rnd, n * k, 0.05));
        assertProduct("before the step", x, w, m, n, k);
        Buffer grad = floats(random(rnd, n * k, 1)), mom = be.allocate(DType.F32, (long) n * k), vel = be.allocate(DType.F32, (long) n * k);
        for (int step = 1; step <= 3; step++) {
            be.adamw(List.of(w), List.of(grad), List.of(mom), List.of(vel), new AdamW(1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, step), 0.5f);
            assertProduct("after AdamW step " + step, x, w, m, n, k);
        }
        be.adamw(w, grad, mom, vel, new AdamW(1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, 4));
        assertProduct("after a single-buffer AdamW step", x, w, m, n, k);
    }

    /**
     * RMSNorm's backward writes the bf16 copy of its float output in the same pass (or, off the vector path, leaves
     * it to the product): the product that reads the gradient next must see exactly the new values, small
     * (a copy of its own), large (the shared staging slot) or of a width the vector kernel does not take.
     */
    @Test
    void normBackwardHandsItsOutputToTheNextProduct() {
        int n = 8;
        for (int[] shape : new int[][]{{24, 64}, {300, 4096}, {40, 60}}) {
            int rows = shape[0], dim = shape[1];
            Buffer x = floats(random(rnd, rows * dim, 1)), w = floats(random(rnd, dim, 1)), dy = floats(random(rnd, rows * dim, 1));
            Buffer rstd = be.allocate(DType.F32, rows), out = be.allocate(DType.F32, (long) rows * dim);
            be.rmsNormForward(x, w, out, rstd, rows, dim, 1e-5f);
            Buffer dx = floats(random(rnd, rows * dim, 1)), other = floats(random(rnd, n * dim, 1));
            assertProduct("before, " + rows + "×" + dim, dx, other, rows, n, dim);
            be.rmsNormBackward(dy, x, w, rstd, dx, dx, null, rows, dim);
            assertProduct("after the norm's backward, " + rows + "×" + dim, dx, other, rows, n, dim);
        }
    }

    /** Operands above a million elements share one staging slot per position; each product must round its own. */
    @Test
    void largeOperandsSharingAStagingSlot() {
        int m = 1 << 15, n = 8, k = 40;
        Buffer first = floats(random(rnd, m * k, 1)), second = floats(random(rnd, m * k, 1)), w = floats(random(rnd, n * k, 1));
        assertProduct("first large operand", first, w, m, n, k);
        assertProduct("second large operand in the same slot", second, w, m, n, k);
        assertProduct("first again", first, w, m, n, k);
        be.scale(first, 2f);
        assertProduct("first after a write", first, w, m, n, k);
    }
}
