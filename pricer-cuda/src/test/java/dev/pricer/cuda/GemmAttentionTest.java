package dev.pricer.cuda;

import dev.pricer.core.backend.AttentionShape;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.tensor.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attention as batched bf16 products ({@link GemmAttention}, what bf16 precision runs for whole sequences) against
 * the float32 flash kernels on the same bf16-rounded inputs: grouped heads, right padding, head dims of both models.
 */
class GemmAttentionTest {

    private static float[] random(SplittableRandom rnd, int n) {
        return GpuTestSupport.roundTo(ElementType.BF16, GpuTestSupport.random(rnd, n, 1.5));
    }

    private static Buffer put(CudaBackend be, float[] values, boolean activation) {
        Buffer b = activation ? be.allocateActivations(values.length) : be.allocate(DType.F32, values.length);
        be.copyFromHost(MemorySegment.ofArray(values), b);
        return b;
    }

    private static float[] get(CudaBackend be, Buffer b) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(b.length() * Float.BYTES, 8);
            be.copyToHost(b, host);
            return host.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    private static void assertClose(String what, float[] got, float[] want, double tolerance) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            if (Float.isNaN(got[i])) num = Double.POSITIVE_INFINITY;
            num += (double) (got[i] - want[i]) * (got[i] - want[i]);
            den += (double) want[i] * want[i];
        }
        double err = Math.sqrt(num / Math.max(den, 1e-30));
        assertTrue(err <= tolerance, what + ": relative error " + err + " > " + tolerance);
    }

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
        float[] q = random(rnd, rows * heads * headDim), k = random(rnd, rows * kvHeads * headDim), v = random(rnd, rows * kvHeads * headDim);
        float[] dout = random(rnd, rows * heads * headDim);
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
