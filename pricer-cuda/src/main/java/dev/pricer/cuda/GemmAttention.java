package dev.pricer.cuda;

import dev.pricer.core.backend.AttentionShape;

/**
 * Causal grouped-query attention of whole sequences (no KV cache) as strided-batch products on the tensor cores:
 * bf16 operands, float accumulation, one product per (sequence, query head), with the scores of one layer at a
 * time in a scratch buffer that every layer reuses (at sequence length 182 they are small). The forward pass keeps
 * only each query row's log-sum-exp, as the flash kernels do, and the backward pass recomputes the scores.
 *
 * <p>Forward: S = scale·Q·Kᵀ, P = softmax(S) with the causal and padding mask, O = P·V. Backward: dP = dO·Vᵀ,
 * dS = P·(dP − rowsum(P·dP)), dV = Pᵀ·dO, dK = scale·dSᵀ·Q, dQ = scale·dS·K. Keys and values are repeated for the
 * query heads of their group on the way in, and dK, dV summed over the group on the way out.
 */
final class GemmAttention {

    /** Score rows are padded to a multiple of 8 elements, so every bf16 row starts 16-byte aligned. */
    private static final int ROW_ALIGN = 8;

    private final Cuda cuda;
    private final Kernels kernels;
    private DeviceBuffer scratch;

    GemmAttention(Cuda cuda, Kernels kernels) {
        this.cuda = cuda;
        this.kernels = kernels;
    }

    /** Whole sequences only: keys are the queries' own rows. */
    static boolean fits(AttentionShape s) {
        return s.pastLen() == 0 && s.keyStride() == s.queryLen();
    }

    /** The scratch regions of one shape, each starting 256-byte aligned. */
    private record Regions(DeviceBuffer qh, DeviceBuffer kh, DeviceBuffer vh, DeviceBuffer doh, DeviceBuffer scores,
                           DeviceBuffer dp, DeviceBuffer p, DeviceBuffer ds, DeviceBuffer oh, DeviceBuffer dkh, DeviceBuffer dvh) {
    }

    private Regions regions(AttentionShape s) {
        long n = (long) s.batch() * s.numHeads(), t = s.queryLen(), ld = ld(s), d = s.headDim();
        long heads16 = align(n * t * d * 2), headsF = align(n * t * d * 4), scoresF = align(n * t * ld * 4), probs16 = align(n * t * ld * 2);
        long total = 4 * heads16 + 2 * scoresF + 2 * probs16 + 3 * headsF;
        if (scratch == null || scratch.bytes() < total) {
            if (scratch != null) cuda.free(scratch);
            scratch = cuda.allocate(total);
        }
        long[] at = {0};
        return new Regions(take(at, heads16), take(at, heads16), take(at, heads16), take(at, heads16), take(at, scoresF),
                take(at, scoresF), take(at, probs16), take(at, probs16), take(at, headsF), take(at, headsF), take(at, headsF));
    }

    /** Frees the scratch, once the work that uses it is done. */
    void close() {
        if (scratch != null) cuda.free(scratch);
        scratch = null;
    }

    private DeviceBuffer take(long[] at, long bytes) {
        DeviceBuffer b = scratch.slice(at[0], bytes);
        at[0] += bytes;
        return b;
    }

    private static long align(long bytes) {
        return (bytes + 255) / 256 * 256;
    }

    private static int ld(AttentionShape s) {
        return (s.queryLen() + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
    }

    /** q, k and v into their head-major regions (k and v repeated per query head), then S = Q·Kᵀ/√d per head. */
    private void scores(ElementType t, Regions r, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, AttentionShape s) {
        int b = s.batch(), seq = s.queryLen(), hq = s.numHeads(), hkv = s.numKvHeads(), d = s.headDim(), ld = ld(s);
        long heads = (long) seq * d;
        kernels.attentionPack(t, r.qh(), q, b, seq, hq, hq, d);
        kernels.attentionPack(t, r.kh(), k, b, seq, hkv, hq, d);
        kernels.attentionPack(t, r.vh(), v, b, seq, hkv, hq, d);
        cuda.gemm().batched(b * hq, false, true, seq, seq, d, (float) (1.0 / Math.sqrt(d)), r.qh(), d, heads, r.kh(), d, heads,
                ElementType.BF16, 0f, r.scores(), ld, (long) seq * ld, ElementType.F32);
    }

    /** out (type {@code t}, like q, k, v) and lse (float [batch, heads, seq]). */
    void forward(ElementType t, DeviceBuffer out, DeviceBuffer lse, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v,
                 DeviceBuffer lengths, AttentionShape s) {
        Regions r = regions(s);
        int b = s.batch(), seq = s.queryLen(), hq = s.numHeads(), d = s.headDim(), ld = ld(s), n = b * hq;
        long heads = (long) seq * d, scores = (long) seq * ld;
        scores(t, r, q, k, v, s);
        Gemm gemm = cuda.gemm();
        kernels.attentionSoftmax(r.p(), lse, r.scores(), lengths, n * seq, seq, hq, ld);
        gemm.batched(n, false, false, seq, d, seq, 1f, r.p(), ld, scores, r.vh(), d, heads, ElementType.BF16, 0f, r.oh(), d, heads, ElementType.F32);
        kernels.attentionUnpack(t, out, r.oh(), b, seq, hq, d);
    }

    /** dq, dk, dv overwritten (type {@code g}, like dout) from q, k, v (type {@code t}) and the forward pass's lse. */
    void backward(ElementType t, ElementType g, DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, DeviceBuffer dout,
                  DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer lse, DeviceBuffer lengths, AttentionShape s) {
        Regions r = regions(s);
        int b = s.batch(), seq = s.queryLen(), hq = s.numHeads(), hkv = s.numKvHeads(), d = s.headDim(), ld = ld(s), n = b * hq;
        float scale = (float) (1.0 / Math.sqrt(d));
        long heads = (long) seq * d, scores = (long) seq * ld;
        scores(t, r, q, k, v, s);
        kernels.attentionPack(g, r.doh(), dout, b, seq, hq, hq, d);
        Gemm gemm = cuda.gemm();
        gemm.batched(n, false, true, seq, seq, d, 1f, r.doh(), d, heads, r.vh(), d, heads, ElementType.BF16, 0f, r.dp(), ld, scores, ElementType.F32);
        kernels.attentionSoftmaxBackward(r.p(), r.ds(), r.scores(), r.dp(), lse, lengths, n * seq, seq, hq, ld);
        gemm.batched(n, true, false, seq, d, seq, 1f, r.p(), ld, scores, r.doh(), d, heads, ElementType.BF16, 0f, r.dvh(), d, heads, ElementType.F32);
        gemm.batched(n, true, false, seq, d, seq, scale, r.ds(), ld, scores, r.qh(), d, heads, ElementType.BF16, 0f, r.dkh(), d, heads, ElementType.F32);
        gemm.batched(n, false, false, seq, d, seq, scale, r.ds(), ld, scores, r.kh(), d, heads, ElementType.BF16, 0f, r.oh(), d, heads, ElementType.F32);
        kernels.attentionUnpack(g, dq, r.oh(), b, seq, hq, d);
        kernels.attentionReduceHeads(g, dk, dv, r.dkh(), r.dvh(), b, seq, hq, hkv, d);
    }
}
