package dev.pricer.cuda;

import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.Nf4Buffer;
import dev.pricer.core.quant.Nf4;
import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The NF4 product that decodes inside the GEMM (nf4_gemm.cu, Hopper only) against dequantize-then-cuBLASLt: the same
 * decoded values, so only the order of the float sums differs. Skipped on GPUs other than sm_90.
 */
class Nf4GemmTest {

    private static Cuda hopper() {
        Cuda cuda = GpuTestSupport.cuda();
        assumeTrue(new Kernels(cuda).nf4GemmAvailable(), () -> "the fused NF4 product needs sm_90, this GPU is " + cuda.arch());
        return cuda;
    }

    private static Nf4Weight weight(int rows, int cols, boolean doubleQuant, long seed) {
        float[] values = GpuTestSupport.random(new SplittableRandom(seed), rows * cols, 0.05);
        return Nf4Quantizer.quantize(MemorySegment.ofArray(values), new long[]{rows, cols}, "float32", doubleQuant);
    }

    /**
     * The kernel itself, both directions and output types, plain and double-quantized scales, rows that are not a
     * multiple of a token tile: every element written (the output starts as NaN), and at beta 0 the addend (NaN
     * too) is not read.
     */
    @ParameterizedTest
    @CsvSource({"BF16, true, true, 100", "F32, true, false, 1", "BF16, false, false, 37", "F32, false, true, 300"})
    void theKernelMatchesDequantizeThenCublasLt(ElementType out, boolean forward, boolean doubleQuant, int m) {
        Cuda cuda = hopper();
        int n = 256, k = 192;
        CudaBackend backend = new CudaBackend(cuda, CudaBackend.Precision.BF16, null, false);
        CudaNf4Buffer w = (CudaNf4Buffer) backend.uploadNf4(weight(forward ? n : k, forward ? k : n, doubleQuant, m * 7L + n));
        DeviceBuffer a = GpuTestSupport.upload(ElementType.BF16, GpuTestSupport.bf16Random(new SplittableRandom(m), m * k));
        DeviceBuffer codebook = GpuTestSupport.upload(ElementType.F32, Nf4.codebook());
        DeviceBuffer fused = GpuTestSupport.poisoned(out, (long) m * n), addend = GpuTestSupport.poisoned(out, (long) m * n);
        new Kernels(cuda).nf4Gemm(out, forward, fused, a, w.packed, w.codes, w.absmax, w.nestedAbsmax, w.nestedMap, w.nestedBlockSize,
                w.offset, codebook, addend, 0f, m, n, k);
        DeviceBuffer reference = cuda.allocate((long) m * n * out.bytes());
        cuda.gemm().matmul(false, forward, m, n, k, 1f, a, k, backend.dequantize(w, ElementType.BF16, forward), forward ? k : n, ElementType.BF16,
                0f, reference, n, out);
        GpuTestSupport.assertClose(out + (forward ? " forward" : " input gradient"), GpuTestSupport.download(out, fused, m * n),
                GpuTestSupport.download(out, reference, m * n), out == ElementType.BF16 ? 4e-3 : 1e-5);
    }

    /**
     * Through the backend as the engine runs it: a layer's forward into kept activations, its forward onto a float
     * residual stream (C ≠ D), and its input gradient, overwriting and accumulating. A weight whose output columns
     * are not a multiple of 128 falls back to dequantizing and still agrees.
     */
    @ParameterizedTest
    @CsvSource({"128, 192", "384, 256", "96, 128"})
    void theBackendsProductsAgreeWithFusionOnAndOff(int n, int k) {
        Cuda cuda = hopper();
        int m = 45;
        Nf4Weight w = weight(n, k, true, n + k);
        SplittableRandom rnd = new SplittableRandom(n);
        float[] x = GpuTestSupport.bf16Random(rnd, m * k), dy = GpuTestSupport.bf16Random(rnd, m * n);
        float[] start = GpuTestSupport.random(rnd, m * k, 1), residual = GpuTestSupport.random(rnd, m * n, 1);
        float[][] on = products(new CudaBackend(cuda, CudaBackend.Precision.BF16, null, true), w, x, dy, start, residual, m, n, k);
        float[][] off = products(new CudaBackend(cuda, CudaBackend.Precision.BF16, null, false), w, x, dy, start, residual, m, n, k);
        String[] names = {"forward into activations", "forward onto the residual", "input gradient", "input gradient, accumulated"};
        for (int i = 0; i < names.length; i++) {
            GpuTestSupport.assertClose(names[i] + " of " + n + "×" + k, on[i], off[i], i == 0 ? 4e-3 : 1e-5);
        }
    }

    private static float[][] products(CudaBackend be, Nf4Weight weight, float[] x, float[] dy, float[] start, float[] residual, int m, int n, int k) {
        Nf4Buffer w = be.uploadNf4(weight);
        Buffer xb = GpuTestSupport.put(be, x, true), dyb = GpuTestSupport.put(be, dy, true);
        Buffer y = be.allocateActivations((long) m * n), onResidual = be.allocate(DType.F32, (long) m * n);
        Buffer residualB = GpuTestSupport.put(be, residual, false), dx = be.allocate(DType.F32, (long) m * k), dxSum = GpuTestSupport.put(be, start, false);
        be.matmulNf4ABt(xb, w, y, m, n, k, false);
        be.matmulNf4ABtPlusResidual(xb, w, null, null, residualB, onResidual, m, n, k, 0);
        be.matmulNf4AB(dyb, w, dx, m, k, n, false);
        be.matmulNf4AB(dyb, w, dxSum, m, k, n, true);
        return new float[][]{be.toFloats(y), be.toFloats(onResidual), be.toFloats(dx), be.toFloats(dxSum)};
    }

    @Test
    void productsTheKernelDoesNotTakeAreRefusedByName() {
        Cuda cuda = hopper();
        Kernels kernels = new Kernels(cuda);
        DeviceBuffer big = cuda.allocate(1 << 20);
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> kernels.nf4Gemm(ElementType.F32, true, big, big, big,
                null, big, null, null, 0, 0f, big, null, 0f, 8, 96, 64));
        assertTrue(shape.getMessage().contains("n=96"), shape.getMessage());
        IllegalArgumentException aligned = assertThrows(IllegalArgumentException.class, () -> kernels.nf4Gemm(ElementType.F32, true, big,
                big.slice(2, 1 << 16), big, null, big, null, null, 0, 0f, big, null, 0f, 8, 128, 64));
        assertTrue(aligned.getMessage().contains("16-byte aligned"), aligned.getMessage());
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class, () -> kernels.nf4Gemm(ElementType.F32, true,
                big.slice(0, 64), big, big, null, big, null, null, 0, 0f, big, null, 0f, 8, 128, 64));
        assertTrue(small.getMessage().contains("too small"), small.getMessage());
    }

    @Test
    void tokenTilesPadTheFewestRowsAndPreferLargerTiles() {
        assertEquals(4, Kernels.nf4GemmTiles(728));
        assertEquals(4, Kernels.nf4GemmTiles(256));
        assertEquals(3, Kernels.nf4GemmTiles(192));
        assertEquals(1, Kernels.nf4GemmTiles(37));
        assertEquals(2, Kernels.nf4GemmTiles(100));
    }
}
