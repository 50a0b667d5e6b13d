package dev.pricer.cuda;

import dev.pricer.core.backend.AttentionShape;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static dev.pricer.cuda.GpuTestSupport.assertClose;
import static dev.pricer.cuda.GpuTestSupport.bf16Random;
import static dev.pricer.cuda.GpuTestSupport.get;
import static dev.pricer.cuda.GpuTestSupport.put;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused tensor-core attention (attention_mma.cu, what bf16 precision runs for whole sequences at head dims 64
 * and 128) against the float32 CUDA-core flash kernels and the CPU backend, on the same bf16-rounded inputs:
 * grouped heads, right padding (down to an empty sequence), sequences shorter than, not a multiple of, and longer
 * than the 64-row tiles, float gradients (training) and bf16 ones.
 */
class TensorCoreAttentionTest {

    /** bf16 rounds P and dS on their way into the products (about 2^-9 each) and out on its way out. */
    private static final double BF16_TOLERANCE = 2e-2;
    /** The log-sum-exp sees the scores in float: only exp2/log2's approximations separate it from float32. */
    private static final double LSE_TOLERANCE = 1e-4;

    @ParameterizedTest(name = "batch {0}, seq {1}, heads {2}/{3}, d {4}, lengths {5}, bf16 gradients {6}")
    @CsvSource({
            "3, 45, 6, 2, 64, 45 30 1, false",
            "2, 130, 8, 2, 128, 130 77, false",
            "2, 70, 4, 4, 64, 0 70, false",
            "2, 64, 4, 1, 128, 64 63, true",
            "1, 182, 8, 2, 128, 182, false",
            "2, 97, 6, 3, 64, 97 65, true"})
    void agreesWithTheCudaCoreKernelsAndTheCpu(int batch, int seq, int heads, int kvHeads, int headDim, String lengthList,
                                               boolean bf16Gradients) {
        Cuda cuda = GpuTestSupport.cuda();
        int[] lengths = Arrays.stream(lengthList.trim().split(" +")).mapToInt(Integer::parseInt).toArray();
        assertEquals(batch, lengths.length);
        AttentionShape s = new AttentionShape(batch, seq, seq, 0, heads, kvHeads, headDim);
        SplittableRandom rnd = new SplittableRandom(seq * 131L + heads * 7L + headDim);
        int rows = batch * seq;
        float[] q = bf16Random(rnd, rows * heads * headDim), k = bf16Random(rnd, rows * kvHeads * headDim), v = bf16Random(rnd, rows * kvHeads * headDim);
        float[] dout = bf16Random(rnd, rows * heads * headDim);

        CudaBackend fused = new CudaBackend(cuda, CudaBackend.Precision.BF16, null);
        float[][] got = run(fused, s, lengths, q, k, v, dout, true, bf16Gradients);
        float[][] flash = run(new CudaBackend(cuda, CudaBackend.Precision.FLOAT32), s, lengths, q, k, v, dout, false, false);
        float[][] cpu = run(new CpuBackend(), s, lengths, q, k, v, dout, false, false);

        String where = " (batch " + batch + ", seq " + seq + ", heads " + heads + "/" + kvHeads + ", d " + headDim + ")";
        assertClose("lse against the CUDA-core kernels" + where, got[1], flash[1], LSE_TOLERANCE);
        String[] names = {"out", null, "dq", "dk", "dv"};
        for (int i = 0; i < names.length; i++) {
            if (names[i] == null) continue;
            assertClose(names[i] + " against the CUDA-core kernels" + where, got[i], flash[i], BF16_TOLERANCE);
            assertClose(names[i] + " against the CPU" + where, got[i], cpu[i], BF16_TOLERANCE);
        }
    }

    /** So the test above cannot pass by falling back: these shapes take the fused kernels, others do not. */
    @Test
    void wholeSequencesOfHeadDims64And128TakeTheTensorCores() {
        Cuda cuda = GpuTestSupport.cuda();
        CudaBackend bf16 = new CudaBackend(cuda, CudaBackend.Precision.BF16, null);
        CudaBuffer q = (CudaBuffer) bf16.allocateActivations(2 * 16 * 4 * 128), f = (CudaBuffer) bf16.allocate(DType.F32, 2 * 16 * 4 * 128);
        assertEquals(CudaBackend.AttentionPath.TENSOR_CORES, bf16.attentionPath(new AttentionShape(2, 16, 16, 0, 4, 2, 128), q, q, q, f));
        assertEquals(CudaBackend.AttentionPath.TENSOR_CORES, bf16.attentionPath(new AttentionShape(2, 16, 16, 0, 4, 2, 64), q, q, q, f));
        assertEquals(CudaBackend.AttentionPath.PRODUCTS, bf16.attentionPath(new AttentionShape(2, 16, 16, 0, 4, 2, 32), q, q, q));
        assertEquals(CudaBackend.AttentionPath.CUDA_CORES, bf16.attentionPath(new AttentionShape(2, 1, 16, 8, 4, 2, 128), q, q, q));
        CudaBuffer shifted = new CudaBuffer(DType.F32, DType.BF16, q.memory().slice(8, q.memory().bytes() - 8), false, q.allocation());
        assertEquals(CudaBackend.AttentionPath.PRODUCTS, bf16.attentionPath(new AttentionShape(2, 16, 16, 0, 4, 2, 128), shifted, q, q));
        assertEquals(CudaBackend.AttentionPath.PRODUCTS,
                new CudaBackend(cuda, CudaBackend.Precision.BF16, "products").attentionPath(new AttentionShape(2, 16, 16, 0, 4, 2, 128), q, q, q));
        assertEquals(CudaBackend.AttentionPath.CUDA_CORES,
                new CudaBackend(cuda, CudaBackend.Precision.FLOAT32, null).attentionPath(new AttentionShape(2, 16, 16, 0, 4, 2, 128), f, f, f));
    }

    @Test
    void kernelsRefuseShapesTheyAreNotBuiltFor() {
        Kernels kernels = new Kernels(GpuTestSupport.cuda());
        DeviceBuffer b = GpuTestSupport.cuda().allocate(1 << 12);
        var e = assertThrows(IllegalArgumentException.class,
                () -> kernels.attentionMmaForward(b, b, b, b, b, null, 1, 4, 2, 1, 96, 0.1f));
        assertTrue(e.getMessage().contains("dimension 96"), e.getMessage());
        var unaligned = b.slice(4, 64);
        e = assertThrows(IllegalArgumentException.class,
                () -> kernels.attentionMmaForward(b, b, unaligned, b, b, null, 1, 4, 2, 1, 64, 0.1f));
        assertTrue(e.getMessage().contains("16-byte aligned"), e.getMessage());
        GpuTestSupport.free(b);
    }

    /**
     * out, lse, dq, dk, dv of one forward and backward pass on {@code be}; q, k, v (and out) kept as activations
     * or float, dout and the gradients as activations where {@code bf16Gradients}.
     */
    private static float[][] run(Backend be, AttentionShape s, int[] lengths, float[] q, float[] k, float[] v, float[] dout,
                                 boolean activations, boolean bf16Gradients) {
        Buffer bq = put(be, q, activations), bk = put(be, k, activations), bv = put(be, v, activations), bdout = put(be, dout, bf16Gradients);
        Buffer out = activations ? be.allocateActivations(q.length) : be.allocate(DType.F32, q.length);
        Buffer lse = be.allocate(DType.F32, be.attentionSavedLength(s)), len = be.allocate(DType.I32, lengths.length);
        be.copyFromHost(MemorySegment.ofArray(lengths), len);
        Buffer dq = gradient(be, q.length, bf16Gradients), dk = gradient(be, k.length, bf16Gradients), dv = gradient(be, v.length, bf16Gradients);
        be.attentionForward(bq, bk, bv, len, out, lse, s);
        be.attentionBackward(bdout, bq, bk, bv, lse, len, dq, dk, dv, s);
        return new float[][]{get(be, out), get(be, lse), get(be, dq), get(be, dk), get(be, dv)};
    }

    /** Filled with NaN first, so an element the kernels forget to write fails the comparison. */
    private static Buffer gradient(Backend be, int n, boolean bf16) {
        Buffer b = bf16 ? be.allocateActivations(n) : be.allocate(DType.F32, n);
        float[] nan = new float[n];
        Arrays.fill(nan, Float.NaN);
        be.copyFromHost(MemorySegment.ofArray(nan), b);
        return b;
    }
}
