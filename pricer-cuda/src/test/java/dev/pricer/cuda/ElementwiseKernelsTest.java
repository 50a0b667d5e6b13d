package dev.pricer.cuda;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static dev.pricer.cuda.GpuTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** RMSNorm, RoPE, SwiGLU, row gather/scatter and conversions against plain-Java references, on the GPU. */
class ElementwiseKernelsTest {

    private final SplittableRandom rnd = new SplittableRandom(11);

    @ParameterizedTest
    @EnumSource(ElementType.class)
    void rmsnormForwardAndBackward(ElementType t) {
        Kernels k = new Kernels(cuda());
        int rows = 37, dim = 200;
        float eps = 1e-5f;
        float[] x = roundTo(t, random(rnd, rows * dim, 2)), w = roundTo(t, random(rnd, dim, 1.5));
        float[] dy = roundTo(t, random(rnd, rows * dim, 1)), dx0 = roundTo(t, random(rnd, rows * dim, 1));
        DeviceBuffer dX = upload(t, x), dW = upload(t, w), dDy = upload(t, dy), dDx = upload(t, dx0);
        DeviceBuffer out = poisoned(t, (long) rows * dim), rstd = poisoned(ElementType.F32, rows);
        k.rmsnormForward(t, out, rstd, dX, dW, rows, dim, eps);
        k.rmsnormBackward(t, dDx, null, dDx, dDy, dX, dW, rstd, rows, dim);
        double[][] ref = rmsnormReference(x, w, dy, dx0, rows, dim, eps);
        double[] refOut = ref[0], refDx = ref[1];
        assertClose("rmsnorm out", download(t, out, rows * dim), refOut, tolerance(t));
        assertClose("rmsnorm dx", download(t, dDx, rows * dim), refDx, tolerance(t));
        free(dX, dW, dDy, dDx, out, rstd);
    }

    @ParameterizedTest
    @EnumSource(ElementType.class)
    void ropeRotatesAndInverseUndoes(ElementType t) {
        Kernels k = new Kernels(cuda());
        int tokens = 21, heads = 3, hd = 16, half = hd / 2, positions = 64;
        float[] x = roundTo(t, random(rnd, tokens * heads * hd, 1));
        int[] pos = new int[tokens];
        for (int i = 0; i < tokens; i++) pos[i] = rnd.nextInt(positions);
        float[] cos = new float[positions * half], sin = new float[positions * half];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * Math.pow(10000, -2.0 * i / hd);
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        DeviceBuffer dX = upload(t, x), dPos = uploadInts(pos), dCos = upload(ElementType.F32, cos), dSin = upload(ElementType.F32, sin);
        k.rope(t, dX, dPos, dCos, dSin, tokens, heads, hd, false);
        float[] rotated = download(t, dX, x.length);
        double[] ref = new double[x.length];
        for (int n = 0; n < tokens * heads; n++) {
            int p = pos[n / heads];
            for (int i = 0; i < half; i++) {
                double c = cos[p * half + i], s = sin[p * half + i];
                double x1 = x[n * hd + i], x2 = x[n * hd + i + half];
                ref[n * hd + i] = x1 * c - x2 * s;
                ref[n * hd + i + half] = x2 * c + x1 * s;
            }
        }
        assertClose("rope", rotated, ref, tolerance(t));
        k.rope(t, dX, dPos, dCos, dSin, tokens, heads, hd, true);
        double[] original = new double[x.length];
        for (int i = 0; i < x.length; i++) original[i] = x[i];
        assertClose("rope inverse", download(t, dX, x.length), original, 2 * tolerance(t));
        free(dX, dPos, dCos, dSin);
    }

    @ParameterizedTest
    @EnumSource(ElementType.class)
    void swigluForwardAndBackwardOnFusedGateUp(ElementType t) {
        Kernels k = new Kernels(cuda());
        int rows = 9, cols = 70, ld = 2 * cols;
        float[] gu = roundTo(t, random(rnd, rows * ld, 4)), dh = roundTo(t, random(rnd, rows * cols, 1));
        DeviceBuffer dGu = upload(t, gu), dDh = upload(t, dh), h = poisoned(t, (long) rows * cols);
        DeviceBuffer g = dGu, u = dGu.slice((long) cols * t.bytes(), dGu.bytes() - (long) cols * t.bytes());
        k.swigluForward(t, h, g, u, rows, cols, ld, ld);
        k.swigluBackward(t, g, u, dDh, g, u, rows, cols, ld, ld, ld);
        double[] refH = new double[rows * cols], refD = new double[rows * ld];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                double gv = gu[r * ld + c], uv = gu[r * ld + cols + c], d = dh[r * cols + c];
                double s = 1 / (1 + Math.exp(-gv));
                refH[r * cols + c] = gv * s * uv;
                refD[r * ld + c] = d * uv * s * (1 + gv * (1 - s));
                refD[r * ld + cols + c] = d * gv * s;
            }
        }
        assertClose("swiglu h", download(t, h, rows * cols), refH, tolerance(t));
        assertClose("swiglu dg,du in place", download(t, dGu, rows * ld), refD, tolerance(t));
        free(dGu, dDh, h);
    }

    @ParameterizedTest
    @EnumSource(ElementType.class)
    void gatherScatterRows(ElementType t) {
        Kernels k = new Kernels(cuda());
        int vocab = 50, dim = 24, rows = 40;
        float[] table = roundTo(t, random(rnd, vocab * dim, 1)), src = roundTo(t, random(rnd, rows * dim, 1));
        int[] ids = new int[rows];
        for (int i = 0; i < rows; i++) ids[i] = rnd.nextInt(vocab);
        DeviceBuffer dTable = upload(t, table), dIds = uploadInts(ids), out = poisoned(t, (long) rows * dim);
        DeviceBuffer dSrc = upload(t, src), grad = cuda().allocate((long) vocab * dim * 4);
        cuda().zero(grad);
        k.gatherRows(t, out, dTable, dIds, rows, dim);
        k.scatterAddRows(t, grad, dSrc, dIds, rows, dim);
        double[] refOut = new double[rows * dim], refGrad = new double[vocab * dim];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < dim; c++) {
                refOut[r * dim + c] = table[ids[r] * dim + c];
                refGrad[ids[r] * dim + c] += src[r * dim + c];
            }
        }
        assertClose("gather", download(t, out, rows * dim), refOut, 0);
        assertClose("scatter-add", download(ElementType.F32, grad, vocab * dim), refGrad, 1e-6);

        int[] distinct = {3, 17, 0, 42};
        DeviceBuffer dDistinct = uploadInts(distinct), target = upload(t, table);
        k.scatterRows(t, target, dSrc, dDistinct, distinct.length, dim);
        double[] refScatter = new double[vocab * dim];
        for (int i = 0; i < table.length; i++) refScatter[i] = table[i];
        for (int r = 0; r < distinct.length; r++) for (int c = 0; c < dim; c++) refScatter[distinct[r] * dim + c] = src[r * dim + c];
        assertClose("scatter", download(t, target, vocab * dim), refScatter, 0);
        free(dTable, dIds, out, dSrc, grad, dDistinct, target);
    }

    @org.junit.jupiter.api.Test
    void conversionsRoundToNearestEven() {
        Kernels k = new Kernels(cuda());
        float[] x = random(rnd, 1000, 100);
        x[0] = Float.NaN;
        x[1] = Float.POSITIVE_INFINITY;
        x[2] = 1.00390625f;   // exactly half-way between two bf16 values: rounds to even (1.0)
        DeviceBuffer f = upload(ElementType.F32, x), b = poisoned(ElementType.BF16, x.length), back = poisoned(ElementType.F32, x.length);
        k.toBf16(b, f, x.length);
        k.toF32(back, b, x.length);
        float[] got = download(ElementType.F32, back, x.length);
        assertEquals(Float.NaN, got[0]);
        assertEquals(Float.POSITIVE_INFINITY, got[1]);
        assertEquals(1.0f, got[2]);
        for (int i = 3; i < x.length; i++) assertEquals(bf16ToFloat(floatToBf16(x[i])), got[i], "element " + i);
        free(f, b, back);
    }
}
