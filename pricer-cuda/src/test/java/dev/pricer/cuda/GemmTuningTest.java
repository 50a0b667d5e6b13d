package dev.pricer.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static dev.pricer.cuda.GpuTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Products with tuning on (GemmTuner) against the heuristic's first choice and Java references: the same results, an
 * accumulating product's C accumulated once (the timing runs leave it alone), a product into a separate D leaving C
 * alone, and each shape tuned once.
 */
class GemmTuningTest {

    private static Gemm tuned;
    private static Gemm untuned;

    /** Products objects of the test's own, tuning on and off, whatever PRICER_GEMM_TUNE says for {@code cuda.gemm()}. */
    private static synchronized Gemm gemm(boolean tune) {
        Cuda cuda = cuda();
        if (tuned == null) {
            tuned = new Gemm(cuda, cuda.cublasLt(), true, false);
            untuned = new Gemm(cuda, cuda.cublasLt(), false, false);
        }
        return tune ? tuned : untuned;
    }

    /** A row-major {@code batch}-strided product C_i = alpha·A_i·B_iᵀ + beta·C_i, with A_i m×k, B_i n×k and C_i m×n packed. */
    private static void product(Gemm gemm, int batch, int m, int n, int k, float alpha, DeviceBuffer a, DeviceBuffer b, ElementType ab,
                                float beta, DeviceBuffer c, ElementType cType) {
        if (batch == 1) gemm.matmul(false, true, m, n, k, alpha, a, k, b, k, ab, beta, c, n, cType);
        else gemm.batched(batch, false, true, m, n, k, alpha, a, k, (long) m * k, b, k, (long) n * k, ab, beta, c, n, (long) m * n, cType);
    }

    private static double[] reference(int batch, int m, int n, int k, float alpha, float[] a, float[] b, float beta, float[] c0) {
        double[] ref = new double[batch * m * n];
        for (int t = 0; t < batch; t++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += (double) a[(t * m + i) * k + p] * b[(t * n + j) * k + p];
                    ref[(t * m + i) * n + j] = alpha * s + beta * c0[(t * m + i) * n + j];
                }
            }
        }
        return ref;
    }

    /** Each row is a shape of its own (m differs), so each tunes. */
    @ParameterizedTest
    @CsvSource({"F32,F32,0,1,101", "F32,F32,1,1,102", "BF16,F32,0,1,103", "BF16,F32,1,1,104", "BF16,BF16,0,1,105",
            "BF16,BF16,1,1,106", "F32,F32,1,3,107", "BF16,F32,1,3,108", "BF16,BF16,0,3,109"})
    void tunedProductsMatchTheHeuristicsChoice(ElementType ab, ElementType c, float beta, int batch, int m) {
        Gemm withTuning = gemm(true), withoutTuning = gemm(false);
        SplittableRandom rnd = new SplittableRandom(m);
        int n = 130, k = 200;
        float alpha = 0.75f;
        float[] a = roundTo(ab, random(rnd, batch * m * k, 1)), b = roundTo(ab, random(rnd, batch * n * k, 1));
        float[] c0 = roundTo(c, random(rnd, batch * m * n, 1));
        DeviceBuffer dA = upload(ab, a), dB = upload(ab, b), cTuned = upload(c, c0), cUntuned = upload(c, c0);
        int before = withTuning.tunedShapes();
        product(withTuning, batch, m, n, k, alpha, dA, dB, ab, beta, cTuned, c);
        product(withoutTuning, batch, m, n, k, alpha, dA, dB, ab, beta, cUntuned, c);
        assertEquals(before + 1, withTuning.tunedShapes(), "a new shape is tuned");
        double tolerance = ab == ElementType.F32 ? 1e-5 : c == ElementType.F32 ? 1e-4 : 1e-2;
        float[] tunedOut = download(c, cTuned, batch * m * n), untunedOut = download(c, cUntuned, batch * m * n);
        String what = ab + "->" + c + " beta " + beta + " batch " + batch;
        assertClose("tuned " + what, tunedOut, reference(batch, m, n, k, alpha, a, b, beta, c0), tolerance);
        assertClose("tuned against untuned " + what, tunedOut, untunedOut, tolerance);
        free(dA, dB, cTuned, cUntuned);
    }

    /**
     * Small integers, so every product is exact in float (and in bf16): C must be exactly C0 + A·Bᵀ, which any
     * timing launch that wrote into C would spoil.
     */
    @ParameterizedTest
    @CsvSource({"BF16,F32,1,111", "BF16,BF16,1,112", "F32,F32,2,113", "BF16,F32,2,114"})
    void anAccumulatingProductsTimingLeavesItsOutputAlone(ElementType ab, ElementType c, int batch, int m) {
        Gemm gemm = gemm(true);
        SplittableRandom rnd = new SplittableRandom(m);
        int n = 72, k = 24;
        float[] a = integers(rnd, batch * m * k, 1), b = integers(rnd, batch * n * k, 1), c0 = integers(rnd, batch * m * n, 8);
        DeviceBuffer dA = upload(ab, a), dB = upload(ab, b), dC = upload(c, c0);
        int before = gemm.tunedShapes();
        product(gemm, batch, m, n, k, 1f, dA, dB, ab, 1f, dC, c);
        assertEquals(before + 1, gemm.tunedShapes(), "this product was tuned");
        double[] ref = reference(batch, m, n, k, 1f, a, b, 1f, c0);
        float[] expected = new float[ref.length];
        for (int i = 0; i < ref.length; i++) expected[i] = (float) ref[i];
        assertArrayEquals(expected, download(c, dC, ref.length), 0f, ab + "->" + c + " batch " + batch);
        free(dA, dB, dC);
    }

    /**
     * D = A·Bᵀ + C into a D apart from C (the residual stream's epilogue), tuning on and off: exactly C0 + A·Bᵀ in D,
     * and C still exactly C0, which a product (or a timing launch) that wrote into C would spoil.
     */
    @ParameterizedTest
    @CsvSource({"BF16,F32,true,115", "F32,F32,true,116", "BF16,F32,false,117", "BF16,BF16,false,118"})
    void aProductIntoASeparateOutputReadsItsAddendAndWritesOnlyTheOutput(ElementType ab, ElementType c, boolean tune, int m) {
        Gemm gemm = gemm(tune);
        SplittableRandom rnd = new SplittableRandom(m);
        int n = 72, k = 24;
        float[] a = integers(rnd, m * k, 1), b = integers(rnd, n * k, 1), c0 = integers(rnd, m * n, 8);
        DeviceBuffer dA = upload(ab, a), dB = upload(ab, b), dC = upload(c, c0), dD = poisoned(c, (long) m * n);
        int before = gemm.tunedShapes();
        gemm.matmul(false, true, m, n, k, 1f, dA, k, dB, k, ab, 1f, dC, dD, n, c);
        assertEquals(before + (tune ? 1 : 0), gemm.tunedShapes());
        double[] ref = reference(1, m, n, k, 1f, a, b, 1f, c0);
        float[] expected = new float[ref.length];
        for (int i = 0; i < ref.length; i++) expected[i] = (float) ref[i];
        String what = ab + "->" + c + (tune ? ", tuned" : "");
        assertArrayEquals(expected, download(c, dD, ref.length), 0f, "D, " + what);
        assertArrayEquals(c0, download(c, dC, ref.length), 0f, "C, " + what);
        free(dA, dB, dC, dD);
    }

    @Test
    void eachShapeIsTunedOnce() {
        Gemm gemm = gemm(true), untuned = gemm(false);
        int m = 121, n = 40, k = 64;
        SplittableRandom rnd = new SplittableRandom(3);
        float[] a = roundTo(ElementType.BF16, random(rnd, m * k, 1)), b = roundTo(ElementType.BF16, random(rnd, n * k, 1));
        DeviceBuffer dA = upload(ElementType.BF16, a), dB = upload(ElementType.BF16, b), dC = cuda().allocate((long) m * n * 4);
        int before = gemm.tunedShapes();
        product(gemm, 1, m, n, k, 1f, dA, dB, ElementType.BF16, 0f, dC, ElementType.F32);
        assertEquals(before + 1, gemm.tunedShapes());
        product(gemm, 1, m, n, k, 0.5f, dA, dB, ElementType.BF16, 1f, dC, ElementType.F32);
        assertEquals(before + 1, gemm.tunedShapes(), "the same shape again (other alpha and beta) keeps its choice");
        product(gemm, 1, m - 1, n, k, 1f, dA, dB, ElementType.BF16, 0f, dC, ElementType.F32);
        assertEquals(before + 2, gemm.tunedShapes(), "another shape is tuned");
        product(untuned, 1, m, n, k, 1f, dA, dB, ElementType.BF16, 0f, dC, ElementType.F32);
        assertEquals(0, untuned.tunedShapes(), "tuning off tunes nothing");
        free(dA, dB, dC);
    }

    private static float[] integers(SplittableRandom rnd, int length, int bound) {
        float[] v = new float[length];
        for (int i = 0; i < length; i++) v[i] = rnd.nextInt(-bound, bound + 1);
        return v;
    }
}
