package dev.pricer.cuda;

import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static dev.pricer.cuda.GpuTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The 16-byte {@code *_vec} element-wise kernels against the scalar ones and plain-Java references, at the
 * model's shapes. {@link Kernels} takes the vector path for aligned buffers and whole chunks of 8; a buffer one
 * element into its allocation is misaligned, which sends the same call down the scalar path.
 */
class VectorKernelsTest {

    private final SplittableRandom rnd = new SplittableRandom(23);

    /** The values uploaded twice: aligned (vector path) and one element past an aligned start (scalar path). */
    private record Twin(DeviceBuffer aligned, DeviceBuffer shifted, DeviceBuffer whole) {
        static Twin of(ElementType t, float[] values) {
            float[] padded = new float[values.length + 1];
            System.arraycopy(values, 0, padded, 1, values.length);
            DeviceBuffer whole = upload(t, padded);
            return new Twin(upload(t, values), whole.slice(t.bytes(), (long) values.length * t.bytes()), whole);
        }

        void free() {
            GpuTestSupport.free(aligned, whole);
        }
    }

    @ParameterizedTest
    @EnumSource(ElementType.class)
    void swigluVectorPathMatchesScalarPathAndReference(ElementType t) {
        Kernels k = new Kernels(cuda());
        int rows = 3, cols = 8 * 250, n = rows * cols;
        float[] g = roundTo(t, random(rnd, n, 4)), u = roundTo(t, random(rnd, n, 2)), dh = roundTo(t, random(rnd, n, 1));
        Twin tg = Twin.of(t, g), tu = Twin.of(t, u), tdh = Twin.of(t, dh), th = Twin.of(t, new float[n]);
        Twin tdg = Twin.of(t, new float[n]), tdu = Twin.of(t, new float[n]);
        k.swigluForward(t, th.aligned, tg.aligned, tu.aligned, rows, cols, cols, cols);
        k.swigluForward(t, th.shifted, tg.shifted, tu.shifted, rows, cols, cols, cols);
        k.swigluBackward(t, tdg.aligned, tdu.aligned, tdh.aligned, tg.aligned, tu.aligned, rows, cols, cols, cols, cols);
        k.swigluBackward(t, tdg.shifted, tdu.shifted, tdh.shifted, tg.shifted, tu.shifted, rows, cols, cols, cols, cols);
        double[] refH = new double[n], refDg = new double[n], refDu = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 1 / (1 + Math.exp(-g[i]));
            refH[i] = g[i] * s * u[i];
            refDg[i] = dh[i] * u[i] * s * (1 + g[i] * (1 - s));
            refDu[i] = dh[i] * g[i] * s;
        }
        float[] h = download(t, th.aligned, n);
        assertClose("swiglu h", h, refH, tolerance(t));
        assertClose("swiglu dg", download(t, tdg.aligned, n), refDg, tolerance(t));
        assertClose("swiglu du", download(t, tdu.aligned, n), refDu, tolerance(t));
        assertClose("swiglu h, vector against scalar", h, asDouble(download(t, th.shifted, n)), 1e-6);
        assertClose("swiglu dg, vector against scalar", download(t, tdg.aligned, n), asDouble(download(t, tdg.shifted, n)), 1e-6);
        for (Twin x : new Twin[]{tg, tu, tdh, th, tdg, tdu}) x.free();
    }

    @Test
    void swigluBackwardFromBf16IntoFloatVectorPath() {
        Kernels k = new Kernels(cuda());
        int n = 8 * 301;
        float[] g = roundTo(ElementType.BF16, random(rnd, n, 4)), u = roundTo(ElementType.BF16, random(rnd, n, 2)), dh = random(rnd, n, 1);
        DeviceBuffer dG = upload(ElementType.BF16, g), dU = upload(ElementType.BF16, u), dDh = upload(ElementType.F32, dh);
        DeviceBuffer dg = poisoned(ElementType.F32, n), du = poisoned(ElementType.F32, n);
        k.swigluBackwardFromBf16(dg, du, dDh, dG, dU, 1, n, n, n, n);
        double[] refDg = new double[n], refDu = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 1 / (1 + Math.exp(-g[i]));
            refDg[i] = dh[i] * u[i] * s * (1 + g[i] * (1 - s));
            refDu[i] = dh[i] * g[i] * s;
        }
        assertClose("dg", download(ElementType.F32, dg, n), refDg, 1e-5);
        assertClose("du", download(ElementType.F32, du, n), refDu, 1e-5);
        free(dG, dU, dDh, dg, du);
    }

    /**
     * SwiGLU's backward into one [rows, 2·cols] buffer, each row dg's cols values then du's (the left operand of
     * the MLP's input gradient as one product), on the vector path (aligned) and the scalar path (one element
     * in), against the CPU backend's {@code swigluBackwardGateUp}; bf16 g and u into float gradients too.
     */
    @ParameterizedTest
    @EnumSource(ElementType.class)
    void swigluBackwardIntoJoinedRowsMatchesTheCpu(ElementType t) {
        Kernels k = new Kernels(cuda());
        int rows = 5, cols = 8 * 50, n = rows * cols;
        float[] g = roundTo(t, random(rnd, n, 4)), u = roundTo(t, random(rnd, n, 2)), dh = roundTo(t, random(rnd, n, 1));
        CpuBackend cpu = new CpuBackend();
        Buffer joined = cpu.allocate(DType.F32, 2L * n);
        cpu.swigluBackwardGateUp(put(cpu, dh, false), put(cpu, g, false), put(cpu, u, false), joined, rows, cols);
        double[] ref = asDouble(cpu.toFloats(joined));
        Twin tg = Twin.of(t, g), tu = Twin.of(t, u), tdh = Twin.of(t, dh), out = Twin.of(t, new float[2 * n]);
        long duOffset = (long) cols * t.bytes(), duBytes = (2L * n - cols) * t.bytes();
        k.swigluBackward(t, out.aligned, out.aligned.slice(duOffset, duBytes), tdh.aligned, tg.aligned, tu.aligned, rows, cols, cols, cols, 2 * cols);
        k.swigluBackward(t, out.shifted, out.shifted.slice(duOffset, duBytes), tdh.shifted, tg.shifted, tu.shifted, rows, cols, cols, cols, 2 * cols);
        assertClose("[dg | du], vector path", download(t, out.aligned, 2 * n), ref, tolerance(t));
        assertClose("[dg | du], scalar path", download(t, out.shifted, 2 * n), ref, tolerance(t));
        if (t == ElementType.BF16) {
            DeviceBuffer dDh = upload(ElementType.F32, dh), mixed = poisoned(ElementType.F32, 2L * n);
            DeviceBuffer mixedUp = mixed.slice((long) cols * Float.BYTES, (2L * n - cols) * Float.BYTES);
            k.swigluBackwardFromBf16(mixed, mixedUp, dDh, tg.aligned, tu.aligned, rows, cols, cols, cols, 2 * cols);
            assertClose("[dg | du] from bf16 g and u", download(ElementType.F32, mixed, 2 * n), ref, 1e-5);
            free(dDh, mixed);
        }
        for (Twin x : new Twin[]{tg, tu, tdh, out}) x.free();
    }

    /** Llama-3.1-8B's hidden size, and a row too long to sit in a block's registers (the scalar kernel then runs). */
    @ParameterizedTest
    @EnumSource(ElementType.class)
    void rmsnormAtModelWidthAndBeyondRegisterCapacity(ElementType t) {
        for (int dim : new int[]{4096, 8 * 4096 + 8}) {
            Kernels k = new Kernels(cuda());
            int rows = 5;
            float eps = 1e-5f;
            float[] x = roundTo(t, random(rnd, rows * dim, 2)), w = roundTo(t, random(rnd, dim, 1.5));
            float[] dy = roundTo(t, random(rnd, rows * dim, 1)), dx0 = roundTo(t, random(rnd, rows * dim, 1));
            DeviceBuffer dX = upload(t, x), dW = upload(t, w), dDy = upload(t, dy), dDx = upload(t, dx0);
            DeviceBuffer out = poisoned(t, (long) rows * dim), rstd = poisoned(ElementType.F32, rows);
            DeviceBuffer out16 = poisoned(ElementType.BF16, (long) rows * dim), rstd16 = poisoned(ElementType.F32, rows);
            k.rmsnormForward(t, out, rstd, dX, dW, rows, dim, eps);
            if (t == ElementType.F32) k.rmsnormForwardToBf16(out16, rstd16, dX, dW, rows, dim, eps);
            k.rmsnormBackward(t, dDx, null, dDx, dDy, dX, dW, rstd, rows, dim);
            double[][] ref = rmsnormReference(x, w, dy, dx0, rows, dim, eps);
            double[] refOut = ref[0], refDx = ref[1];
            assertClose("rmsnorm out, dim " + dim, download(t, out, rows * dim), refOut, tolerance(t));
            assertClose("rmsnorm dx, dim " + dim, download(t, dDx, rows * dim), refDx, tolerance(t));
            if (t == ElementType.F32) assertClose("rmsnorm out in bf16, dim " + dim, download(ElementType.BF16, out16, rows * dim), refOut, 1e-2);
            free(dX, dW, dDy, dDx, out, rstd, out16, rstd16);
        }
    }

    @ParameterizedTest
    @EnumSource(ElementType.class)
    void ropeWithModelHeadDimMatchesScalarPath(ElementType t) {
        Kernels k = new Kernels(cuda());
        int tokens = 13, heads = 4, hd = 128, half = hd / 2, positions = 40, n = tokens * heads * hd;
        float[] x = roundTo(t, random(rnd, n, 1));
        int[] pos = new int[tokens];
        for (int i = 0; i < tokens; i++) pos[i] = rnd.nextInt(positions);
        float[] cos = new float[positions * half], sin = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * Math.pow(500000, -2.0 * i / hd);
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        Twin tx = Twin.of(t, x);
        DeviceBuffer dPos = uploadInts(pos), dCos = upload(ElementType.F32, cos), dSin = upload(ElementType.F32, sin);
        for (boolean inverse : new boolean[]{false, true}) {
            k.rope(t, tx.aligned, dPos, dCos, dSin, tokens, heads, hd, inverse);
            k.rope(t, tx.shifted, dPos, dCos, dSin, tokens, heads, hd, inverse);
            double[] ref = new double[n];
            for (int r = 0; r < tokens * heads; r++) {
                int p = pos[r / heads];
                for (int i = 0; i < half; i++) {
                    double c = cos[p * half + i], s = (inverse ? -1 : 1) * sin[p * half + i];
                    double x1 = x[r * hd + i], x2 = x[r * hd + i + half];
                    ref[r * hd + i] = x1 * c - x2 * s;
                    ref[r * hd + i + half] = x2 * c + x1 * s;
                }
            }
            float[] got = download(t, tx.aligned, n), scalar = download(t, tx.shifted, n);
            assertClose("rope, inverse " + inverse, got, ref, tolerance(t));
            // The compiler may fuse a multiply-add differently in the two kernels: an ulp apart, no more.
            assertClose("rope vector against scalar, inverse " + inverse, got, asDouble(scalar), 1e-6);
            // The inverse starts from each path's own rotation; the reference from the vector path's.
            x = got;
        }
        tx.free();
        free(dPos, dCos, dSin);
    }

    @Test
    void conversionAndAxpyVectorPathsAreBitForBitTheScalarOnes() {
        Kernels k = new Kernels(cuda());
        int n = 8 * 1000;
        float[] x = random(rnd, n, 100), y = random(rnd, n, 10);
        x[8] = Float.NaN;
        x[9] = 1.00390625f;
        Twin tx = Twin.of(ElementType.F32, x), ty = Twin.of(ElementType.F32, y), tb = Twin.of(ElementType.BF16, y);
        Twin t16 = Twin.of(ElementType.BF16, new float[n]);
        k.toBf16(t16.aligned, tx.aligned, n);
        k.toBf16(t16.shifted, tx.shifted, n);
        assertArrayEquals(download(ElementType.BF16, t16.shifted, n), download(ElementType.BF16, t16.aligned, n), "f32 to bf16");
        k.axpy(ElementType.F32, ty.aligned, tx.aligned, 0.375f, n);
        k.axpy(ElementType.F32, ty.shifted, tx.shifted, 0.375f, n);
        assertArrayEquals(download(ElementType.F32, ty.shifted, n), download(ElementType.F32, ty.aligned, n), "axpy");
        k.axpyIntoBf16(tb.aligned, tx.aligned, -1.5f, n);
        k.axpyIntoBf16(tb.shifted, tx.shifted, -1.5f, n);
        float[] got = download(ElementType.BF16, tb.aligned, n);
        assertArrayEquals(download(ElementType.BF16, tb.shifted, n), got, "axpy into bf16");
        float[] y16 = roundTo(ElementType.BF16, y.clone());
        double[] ref = new double[n - 10];
        for (int i = 10; i < n; i++) ref[i - 10] = y16[i] - 1.5 * x[i];
        assertClose("axpy into bf16", java.util.Arrays.copyOfRange(got, 10, n), ref, 1e-2);
        for (Twin t : new Twin[]{tx, ty, tb, t16}) t.free();
    }

    private static double[] asDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}
