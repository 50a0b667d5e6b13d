package dev.pricer.cuda;

import dev.pricer.core.backend.AttentionShape;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.tensor.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static dev.pricer.cuda.GpuTestSupport.assertClose;
import static dev.pricer.cuda.GpuTestSupport.bf16Random;
import static dev.pricer.cuda.GpuTestSupport.get;
import static dev.pricer.cuda.GpuTestSupport.put;

/**
 * Attention as batched bf16 products ({@link GemmAttention}, what bf16 precision runs for whole sequences) against
 * the float32 flash kernels on the same bf16-rounded inputs: grouped heads, right padding, head dims of both models.
 */
class GemmAttentionTest {

    @ParameterizedTest
    @CsvSource({"6,2,64", "8,2,128"})
    void productsAgreeWithTheFlashKernels(int heads, int kvHeads, int headDim) {
        Cuda cuda = GpuTestSupport.cuda();
        CudaBackend bf16 = new CudaBackend(cuda, CudaBackend.Precision.BF16, "products"), f32 = new CudaBackend(cuda, CudaBackend.Precision.FLOAT32);
        int batch = 3, seq = 45;
        int[] lengths = {45, 30, 1};
        AttentionShape s = new AttentionShape(batch, seq, seq, 0, heads, kvHeads, headDim);
        SplittableRandom rnd = new SplittableRandom(heads * 31L + headDim);
        int rows = batch * seq;
        float[] q = bf16Random(rnd, rows * heads * headDim), k = bf16Random(rnd, rows * kvHeads * headDim), v = bf16Random(rnd, rows * kvHeads * headDim);
        float[] dout = bf16Random(rnd, rows * heads * headDim);
        float[][] got = run(bf16, s, lengths, q, k, v, dout, true), want = run(f32, s, lengths, q, k, v, dout, false);
        String[] names = {"out", "lse", "dq", "dk", "dv"};
        // bf16 rounds the probabilities, dP and dS on their way into the products: about 2^-9 each.
        for (int i = 0; i < names.length; i++) assertClose(names[i] + " (heads " + heads + "/" + kvHeads + ", d " + headDim + ")", got[i], want[i], 2e-2);
    }

    /** out, lse, dq, dk, dv of one forward and backward pass on {@code be}; q, k, v kept as activations or float. */
    private static float[][] run(CudaBackend be, AttentionShape s, int[] lengths, float[] q, float[] k, float[] v, float[] dout, boolean activations) {
        Buffer bq = put(be, q, activations), bk = put(be, k, activations), bv = put(be, v, activations), bdout = put(be, dout, false);
        Buffer out = activations ? be.allocateActivations(q.length) : be.allocate(DType.F32, q.length);
        Buffer lse = be.allocate(DType.F32, be.attentionSavedLength(s)), len = be.allocate(DType.I32, lengths.length);
        be.copyFromHost(MemorySegment.ofArray(lengths), len);
        Buffer dq = be.allocate(DType.F32, q.length), dk = be.allocate(DType.F32, k.length), dv = be.allocate(DType.F32, v.length);
        be.attentionForward(bq, bk, bv, len, out, lse, s);
        be.attentionBackward(bdout, bq, bk, bv, lse, len, dq, dk, dv, s);
        return new float[][]{get(be, out), get(be, lse), get(be, dq), get(be, dk), get(be, dv)};
    }
}
