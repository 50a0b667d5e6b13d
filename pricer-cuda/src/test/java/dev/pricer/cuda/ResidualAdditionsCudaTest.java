package dev.pricer.cuda;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.Nf4Buffer;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.core.tensor.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static dev.pricer.cuda.GpuTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The residual stream's additions on the GPU against the steps they replace, run on the same backend: a layer's
 * products with the residual as cuBLASLt's C and the output as its D (dense and NF4, with and without a LoRA update)
 * against product, LoRA, axpy; and RMSNorm's backward reading the residual's gradient apart from its output against
 * copy then accumulate, which must agree bit for bit (the kernel adds in the same order). Also against the CPU.
 */
class ResidualAdditionsCudaTest {

    private static final int M = 96, N = 64, K = 200, R = 8;

    /** The layer's base product into c, overwriting it: dense or NF4. */
    @FunctionalInterface
    private interface BaseProduct {
        void into(Backend be, Buffer x, Buffer c);
    }

    /** The inputs of one layer's forward (LoRA's intermediate transposed, ut [R, M]), and how to run it the new way and the old way. */
    private record Layer(float[] x, float[] ut, float[] v, float[] residual, BaseProduct base, Fused fused) {
    }

    @FunctionalInterface
    private interface Fused {
        void run(Backend be, Buffer x, Buffer ut, Buffer v, Buffer residual, Buffer c, int r);
    }

    private static Layer dense(SplittableRandom rnd, float[] w) {
        return new Layer(random(rnd, M * K, 1), random(rnd, R * M, 1), random(rnd, N * R, 0.1), random(rnd, M * N, 1),
                (be, x, c) -> be.matmulABt(x, put(be, w, false), c, M, N, K, false),
                (be, x, ut, v, res, c, r) -> be.matmulABtPlusResidual(x, put(be, w, false), ut, v, res, c, M, N, K, r));
    }

    private static Layer nf4(SplittableRandom rnd, Nf4Weight w) {
        return new Layer(random(rnd, M * K, 1), random(rnd, R * M, 1), random(rnd, N * R, 0.1), random(rnd, M * N, 1),
                (be, x, c) -> be.matmulNf4ABt(x, be.uploadNf4(w), c, M, N, K, false),
                (be, x, ut, v, res, c, r) -> be.matmulNf4ABtPlusResidual(x, be.uploadNf4(w), ut, v, res, c, M, N, K, r));
    }

    /** The new way; the residual must come back unchanged. */
    private static float[] fused(Backend be, Layer l, int r) {
        Buffer residual = put(be, l.residual(), false), c = be.allocate(DType.F32, (long) M * N);
        be.fill(c, Float.NaN);
        l.fused().run(be, put(be, l.x(), false), r == 0 ? null : put(be, l.ut(), true), r == 0 ? null : put(be, l.v(), false), residual, c, r);
        assertArrayEquals(l.residual(), be.toFloats(residual), be.name() + ": the residual is only read");
        return be.toFloats(c);
    }

    /** The old way: product, LoRA accumulated, then axpy. */
    private static float[] inSteps(Backend be, Layer l, int r) {
        Buffer c = be.allocate(DType.F32, (long) M * N);
        l.base().into(be, put(be, l.x(), false), c);
        if (r > 0) be.matmulAtBt(put(be, l.ut(), true), put(be, l.v(), false), c, M, N, R, true);
        be.axpy(1f, put(be, l.residual(), false), c);
        return be.toFloats(c);
    }

    private static void assertFusedMatchesSteps(String what, Layer l, CudaBackend.Precision precision, int r) {
        CudaBackend gpu = new CudaBackend(cuda(), precision);
        float[] fused = fused(gpu, l, r);
        what += ", " + precision + ", rank " + r;
        assertClose(what + " against product, LoRA, axpy on the GPU", fused, inSteps(gpu, l, r), 1e-6);
        try (CpuBackend cpu = new CpuBackend()) {
            assertClose(what + " against the CPU", fused, fused(cpu, l, r), precision == CudaBackend.Precision.FLOAT32 ? 1e-5 : 1e-2);
        }
    }

    @ParameterizedTest
    @CsvSource({"FLOAT32, 0", "FLOAT32, 8", "BF16, 0", "BF16, 8"})
    void denseProductPlusResidualMatchesTheSteps(CudaBackend.Precision precision, int r) {
        SplittableRandom rnd = new SplittableRandom(31 + r);
        assertFusedMatchesSteps("dense", dense(rnd, random(rnd, N * K, 0.1)), precision, r);
    }

    @ParameterizedTest
    @CsvSource({"FLOAT32, 0", "BF16, 8"})
    void nf4ProductPlusResidualMatchesTheSteps(CudaBackend.Precision precision, int r) {
        SplittableRandom rnd = new SplittableRandom(41 + r);
        Nf4Weight w = Nf4Quantizer.quantize(MemorySegment.ofArray(random(rnd, N * K, 0.05)), new long[]{N, K}, "float32", true);
        assertFusedMatchesSteps("nf4", nf4(rnd, w), precision, r);
    }

    /**
     * Rows of 4096 take the vector kernel (in BF16 precision it also writes dx's bf16 copy, which a product then reads),
     * rows of 60 the scalar one.
     */
    @ParameterizedTest
    @CsvSource({"FLOAT32, 4096", "BF16, 4096", "FLOAT32, 60", "BF16, 60"})
    void normBackwardIntoASeparateOutputIsCopyThenAccumulateBitForBit(CudaBackend.Precision precision, int dim) {
        CudaBackend be = new CudaBackend(cuda(), precision);
        SplittableRandom rnd = new SplittableRandom(dim);
        int rows = 24;
        Buffer x = put(be, random(rnd, rows * dim, 2), false), w = put(be, random(rnd, dim, 1), false);
        Buffer dy = put(be, random(rnd, rows * dim, 1), false), rstd = be.allocate(DType.F32, rows);
        be.rmsNormForward(x, w, be.allocate(DType.F32, (long) rows * dim), rstd, rows, dim, 1e-5f);
        float[] residual = random(rnd, rows * dim, 1);
        Buffer dResidual = put(be, residual, false), dx = be.allocate(DType.F32, (long) rows * dim);
        Buffer dweight = be.allocate(DType.F32, dim), dweightInSteps = be.allocate(DType.F32, dim);
        Buffer other = put(be, random(rnd, 8 * dim, 1), false), viaNorm = be.allocate(DType.F32, 8L * rows);
        // A product first, so that dx has a bf16 copy which the norm's write must replace.
        be.matmulABt(dx, other, viaNorm, rows, 8, dim, false);
        be.rmsNormBackward(dy, x, w, rstd, dResidual, dx, dweight, rows, dim);
        Buffer inSteps = be.allocate(DType.F32, (long) rows * dim);
        be.copy(dResidual, inSteps);
        be.rmsNormBackward(dy, x, w, rstd, inSteps, inSteps, dweightInSteps, rows, dim);
        String what = precision + ", dim " + dim;
        assertArrayEquals(be.toFloats(inSteps), be.toFloats(dx), what);
        assertArrayEquals(be.toFloats(dweightInSteps), be.toFloats(dweight), "dweight, " + what);
        assertArrayEquals(residual, be.toFloats(dResidual), "the residual's gradient is only read, " + what);
        Buffer fresh = be.allocate(DType.F32, 8L * rows);
        be.matmulABt(dx, other, viaNorm, rows, 8, dim, false);
        be.matmulABt(put(be, be.toFloats(dx), false), other, fresh, rows, 8, dim, false);
        assertClose("a product reads the new dx, " + what, be.toFloats(viaNorm), be.toFloats(fresh), 1e-6);
        Buffer normOnly = be.allocate(DType.F32, (long) rows * dim), fromZero = be.allocate(DType.F32, (long) rows * dim);
        be.fill(normOnly, Float.NaN);
        be.rmsNormBackward(dy, x, w, rstd, null, normOnly, null, rows, dim);
        be.rmsNormBackward(dy, x, w, rstd, fromZero, fromZero, null, rows, dim);
        assertArrayEquals(be.toFloats(fromZero), be.toFloats(normOnly), "no residual, " + what);
    }
}
