package dev.pricer.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static dev.pricer.cuda.GpuTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Chunked cross-entropy, the LoRA linear path, gradient norm with clipping, and AdamW against references. */
class LossAndOptimizerTest {

    private final SplittableRandom rnd = new SplittableRandom(23);

    @ParameterizedTest
    @EnumSource(ElementType.class)
    void chunkedCrossEntropyMatchesFullSoftmax(ElementType t) {
        Kernels kernels = new Kernels(cuda());
        int rows = 6, dim = 48, vocab = 1000, chunk = 256;
        float[] hidden = roundTo(t, random(rnd, rows * dim, 1)), weight = roundTo(t, random(rnd, vocab * dim, 1));
        int[] targets = new int[rows];
        float[] dloss = new float[rows];
        for (int r = 0; r < rows; r++) {
            targets[r] = rnd.nextInt(vocab);
            dloss[r] = 1f / rows;
        }
        DeviceBuffer dH = upload(t, hidden), dW = upload(t, weight), dT = uploadInts(targets), dL = upload(ElementType.F32, dloss);
        DeviceBuffer loss = poisoned(ElementType.F32, rows), dHidden = poisoned(t, (long) rows * dim);
        try (ChunkedCrossEntropy ce = new ChunkedCrossEntropy(kernels, t, rows, dim, vocab, chunk)) {
            ce.forward(dH, dW, dT, rows, loss);
            ce.backward(dH, dW, dT, rows, dL, dHidden, false);
        }
        double[] refLoss = new double[rows], refDh = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            double[] logits = new double[vocab];
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < vocab; c++) {
                for (int d = 0; d < dim; d++) logits[c] += (double) hidden[r * dim + d] * weight[c * dim + d];
                max = Math.max(max, logits[c]);
            }
            double sum = 0;
            for (double l : logits) sum += Math.exp(l - max);
            double lse = max + Math.log(sum);
            refLoss[r] = lse - logits[targets[r]];
            for (int c = 0; c < vocab; c++) {
                double g = (Math.exp(logits[c] - lse) - (c == targets[r] ? 1 : 0)) * dloss[r];
                for (int d = 0; d < dim; d++) refDh[r * dim + d] += g * weight[c * dim + d];
            }
        }
        assertClose("loss", download(ElementType.F32, loss, rows), refLoss, t == ElementType.F32 ? 1e-5 : 1e-3);
        assertClose("dhidden", download(t, dHidden, rows * dim), refDh, t == ElementType.F32 ? 1e-5 : 2e-2);
        free(dH, dW, dT, dL, loss, dHidden);
    }

    @ParameterizedTest
    @EnumSource(ElementType.class)
    void loraLinearForwardAndBackward(ElementType t) {
        Cuda cuda = cuda();
        int rows = 30, in = 64, out = 48, rank = 8;
        float scale = 2f;
        float[] x = roundTo(t, random(rnd, rows * in, 1)), w = roundTo(t, random(rnd, out * in, 0.2));
        float[] a = roundTo(t, random(rnd, rank * in, 0.2)), b = roundTo(t, random(rnd, out * rank, 0.2));
        float[] dy = roundTo(t, random(rnd, rows * out, 1));
        DeviceBuffer dX = upload(t, x), dW = upload(t, w), dA = upload(t, a), dB = upload(t, b), dDy = upload(t, dy);
        DeviceBuffer xa = poisoned(t, (long) rows * rank), y = poisoned(t, (long) rows * out), dyb = poisoned(t, (long) rows * rank);
        DeviceBuffer dx = poisoned(t, (long) rows * in), gA = cuda.allocate((long) rank * in * 4), gB = cuda.allocate((long) out * rank * 4);
        cuda.zero(gA);
        cuda.zero(gB);
        LoraLinear lora = new LoraLinear(cuda.gemm(), t, in, out, rank, scale);
        lora.forward(dX, dW, dA, dB, xa, y, rows, false);
        lora.backward(dDy, dX, xa, dW, dA, dB, dx, gA, gB, dyb, rows, false);

        double[] xaRef = new double[rows * rank], yRef = new double[rows * out], dxRef = new double[rows * in];
        double[] gaRef = new double[rank * in], gbRef = new double[out * rank], dybRef = new double[rows * rank];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < rank; j++) for (int i = 0; i < in; i++) xaRef[r * rank + j] += (double) x[r * in + i] * a[j * in + i];
            for (int o = 0; o < out; o++) {
                double s = 0, l = 0;
                for (int i = 0; i < in; i++) s += (double) x[r * in + i] * w[o * in + i];
                for (int j = 0; j < rank; j++) l += xaRef[r * rank + j] * b[o * rank + j];
                yRef[r * out + o] = s + scale * l;
            }
            for (int j = 0; j < rank; j++) for (int o = 0; o < out; o++) dybRef[r * rank + j] += (double) dy[r * out + o] * b[o * rank + j];
            for (int i = 0; i < in; i++) {
                double s = 0;
                for (int o = 0; o < out; o++) s += (double) dy[r * out + o] * w[o * in + i];
                for (int j = 0; j < rank; j++) s += scale * dybRef[r * rank + j] * a[j * in + i];
                dxRef[r * in + i] = s;
            }
            for (int o = 0; o < out; o++) for (int j = 0; j < rank; j++) gbRef[o * rank + j] += scale * dy[r * out + o] * xaRef[r * rank + j];
            for (int j = 0; j < rank; j++) for (int i = 0; i < in; i++) gaRef[j * in + i] += scale * dybRef[r * rank + j] * x[r * in + i];
        }
        double tol = t == ElementType.F32 ? 1e-5 : 2e-2;
        assertClose("lora y", download(t, y, rows * out), yRef, tol);
        assertClose("lora dx", download(t, dx, rows * in), dxRef, tol);
        assertClose("lora dA", download(ElementType.F32, gA, rank * in), gaRef, tol);
        assertClose("lora dB", download(ElementType.F32, gB, out * rank), gbRef, tol);
        free(dX, dW, dA, dB, dDy, xa, y, dyb, dx, gA, gB);
    }

    @Test
    void gradNormClipAndAdamWMatchTorchFormulas() {
        Cuda cuda = cuda();
        Kernels kernels = new Kernels(cuda);
        int n = 5000;
        float[] p = random(rnd, n, 1), g = random(rnd, n, 0.05);
        float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.01f, maxNorm = 1f;
        DeviceBuffer dP = upload(ElementType.F32, p), m = cuda.allocate(n * 4L), v = cuda.allocate(n * 4L);
        DeviceBuffer shadow = poisoned(ElementType.BF16, n), acc = cuda.allocate(8), norm = cuda.allocate(4), clip = cuda.allocate(4);
        cuda.zero(m);
        cuda.zero(v);
        double[] pr = new double[n], mr = new double[n], vr = new double[n];
        for (int i = 0; i < n; i++) pr[i] = p[i];
        double sumsq = 0;
        for (float gi : g) sumsq += (double) gi * gi;
        double normRef = Math.sqrt(sumsq), clipRef = Math.min(1, maxNorm / (normRef + 1e-6));
        double[] scaled = new double[n];
        for (int i = 0; i < n; i++) scaled[i] = g[i] * clipRef;
        for (int step = 1; step <= 3; step++) {
            // each step's gradient is fresh: the update scales it in place
            DeviceBuffer dG = upload(ElementType.F32, g);
            cuda.zero(acc);
            kernels.sumSquares(dG, n, acc);
            kernels.clipFactor(acc, maxNorm, norm, clip);
            kernels.adamw(ElementType.BF16, dP, dG, m, v, shadow, n, lr, b1, b2, eps, wd, step, clip);
            assertClose("gradient scaled in place", download(ElementType.F32, dG, n), scaled, 1e-6);
            free(dG);
            double bc1 = 1 - Math.pow(b1, step), bc2 = 1 - Math.pow(b2, step);
            for (int i = 0; i < n; i++) {
                double gi = g[i] * clipRef;
                pr[i] *= 1 - lr * wd;
                mr[i] = b1 * mr[i] + (1 - b1) * gi;
                vr[i] = b2 * vr[i] + (1 - b2) * gi * gi;
                pr[i] -= lr / bc1 * mr[i] / (Math.sqrt(vr[i]) / Math.sqrt(bc2) + eps);
            }
        }
        assertEquals(normRef, download(ElementType.F32, norm, 1)[0], normRef * 1e-6);
        assertEquals(clipRef, download(ElementType.F32, clip, 1)[0], 1e-6);
        assertClose("adamw params", download(ElementType.F32, dP, n), pr, 1e-6);
        assertClose("adamw m", download(ElementType.F32, m, n), mr, 1e-6);
        assertClose("adamw v", download(ElementType.F32, v, n), vr, 1e-5);
        assertClose("adamw bf16 shadow", download(ElementType.BF16, shadow, n), pr, 4e-3);
        free(dP, m, v, shadow, acc, norm, clip);
    }
}
