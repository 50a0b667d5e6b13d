package dev.pricer.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static dev.pricer.cuda.GpuTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Row-major cuBLASLt products in every transpose, with beta accumulation, against Java references. */
class GemmTest {

    @ParameterizedTest
    @CsvSource({"F32,F32,false,false", "F32,F32,true,false", "F32,F32,false,true", "F32,F32,true,true",
            "BF16,F32,false,true", "BF16,F32,true,false", "BF16,F32,true,true", "BF16,BF16,false,true", "BF16,BF16,false,false",
            "BF16,BF16,true,true"})
    void productMatchesReference(ElementType ab, ElementType c, boolean transA, boolean transB) {
        Cuda cuda = cuda();
        SplittableRandom rnd = new SplittableRandom(5);
        int m = 37, n = 53, k = 70;
        float[] a = roundTo(ab, random(rnd, m * k, 1)), b = roundTo(ab, random(rnd, k * n, 1)), c0 = roundTo(c, random(rnd, m * n, 1));
        DeviceBuffer dA = upload(ab, a), dB = upload(ab, b), dC = upload(c, c0);
        assertProduct(cuda, ab, c, transA, transB, m, n, k, a, b, c0, dA, dB, dC);
        free(dA, dB, dC);
    }

    /**
     * Operands that start 4 or 8 bytes into their allocation, as a projection's rows of LoRA's stacked intermediate
     * may ([r, rows] slices, r a multiple of 4), after the same shape ran on aligned ones: cuBLASLt must not keep an
     * algorithm that assumes 256-byte alignment.
     */
    @ParameterizedTest
    @CsvSource({"F32,F32", "BF16,F32", "BF16,BF16"})
    void productOfSlicesAtAnyOffsetMatchesReference(ElementType ab, ElementType c) {
        Cuda cuda = cuda();
        SplittableRandom rnd = new SplittableRandom(6);
        int m = 96, n = 64, k = 32;
        float[] a = roundTo(ab, random(rnd, m * k, 1)), b = roundTo(ab, random(rnd, k * n, 1)), c0 = roundTo(c, random(rnd, m * n, 1));
        DeviceBuffer dA = upload(ab, a), dB = upload(ab, b), dC = upload(c, c0);
        assertProduct(cuda, ab, c, true, true, m, n, k, a, b, c0, dA, dB, dC);
        int padA = ab == ElementType.F32 ? 1 : 4, padC = c == ElementType.F32 ? 1 : 4;
        DeviceBuffer sA = upload(ab, concat(new float[padA], a)), sB = upload(ab, concat(new float[padA], b)), sC = upload(c, concat(new float[padC], c0));
        assertProduct(cuda, ab, c, true, true, m, n, k, a, b, c0, sA.slice((long) padA * ab.bytes(), (long) m * k * ab.bytes()),
                sB.slice((long) padA * ab.bytes(), (long) k * n * ab.bytes()), sC.slice((long) padC * c.bytes(), (long) m * n * c.bytes()));
        free(dA, dB, dC, sA, sB, sC);
    }

    private static float[] concat(float[] zeros, float[] tail) {
        float[] all = Arrays.copyOf(zeros, zeros.length + tail.length);
        System.arraycopy(tail, 0, all, zeros.length, tail.length);
        return all;
    }

    /** C = 0.75·op(A)·op(B) + C, checked against a double reference. */
    private static void assertProduct(Cuda cuda, ElementType ab, ElementType c, boolean transA, boolean transB, int m, int n, int k,
                                      float[] a, float[] b, float[] c0, DeviceBuffer dA, DeviceBuffer dB, DeviceBuffer dC) {
        float alpha = 0.75f, beta = 1f;
        cuda.gemm().matmul(transA, transB, m, n, k, alpha, dA, transA ? m : k, dB, transB ? k : n, ab, beta, dC, n, c);
        double[] ref = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    double av = transA ? a[p * m + i] : a[i * k + p];
                    double bv = transB ? b[j * k + p] : b[p * n + j];
                    s += av * bv;
                }
                ref[i * n + j] = alpha * s + beta * c0[i * n + j];
            }
        }
        assertClose("gemm " + ab + "->" + c + " tA=" + transA + " tB=" + transB + " at " + dA.address() % 256, download(c, dC, m * n), ref,
                ab == ElementType.F32 ? 1e-5 : c == ElementType.F32 ? 1e-4 : 1e-2);
    }

    @Test
    void rejectsBuffersTooSmallForTheShape() {
        Cuda cuda = cuda();
        DeviceBuffer small = cuda.allocate(16), big = cuda.allocate(4096);
        assertThrows(IllegalArgumentException.class,
                () -> cuda.gemm().linear(small, big, big, 8, 8, 8, ElementType.F32, ElementType.F32, 1f, 0f));
        free(small, big);
    }
}
