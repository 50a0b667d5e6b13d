package dev.pricer.core.backend.cpu;

import dev.pricer.core.backend.AttentionShape;

import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;

import static dev.pricer.core.backend.cpu.Vec.get;

/**
 * The reference for {@link CpuBlockedAttention}: causal grouped-query attention one (query, key) pair at a time,
 * as plainly as it can be written. Forward runs one task per (sequence, head, query); backward one task per
 * (sequence, KV head), so that the key and value gradients a task accumulates belong to it alone.
 */
final class CpuAttention {

    private CpuAttention() {
    }

    /** Keys visible to query i of sequence b: causal, and inside the sequence's valid length. */
    private static int visible(AttentionShape s, int validLength, int i) {
        return Math.min(s.pastLen() + i + 1, validLength);
    }

    static void forward(MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment lengths,
                        MemorySegment out, MemorySegment probs, AttentionShape s) {
        int hd = s.headDim(), group = s.numHeads() / s.numKvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        IntStream.range(0, s.batch() * s.numHeads() * s.queryLen()).parallel().forEach(task -> {
            int i = task % s.queryLen(), h = task / s.queryLen() % s.numHeads(), b = task / (s.queryLen() * s.numHeads());
            int kvh = h / group;
            long qRow = ((long) (b * s.queryLen() + i) * s.numHeads() + h) * hd;
            int n = visible(s, Vec.getInt(lengths, b), i);
            float[] p = new float[Math.max(n, 0)];
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                long kRow = ((long) (b * s.keyStride() + j) * s.numKvHeads() + kvh) * hd;
                p[j] = Vec.dot(q, qRow, k, kRow, hd) * scale;
                max = Math.max(max, p[j]);
            }
            float sum = 0f;
            for (int j = 0; j < n; j++) {
                p[j] = (float) Math.exp(p[j] - max);
                sum += p[j];
            }
            Vec.zero(out, qRow, hd);
            for (int j = 0; j < n; j++) {
                p[j] /= sum;
                long vRow = ((long) (b * s.keyStride() + j) * s.numKvHeads() + kvh) * hd;
                Vec.axpy(p[j], v, vRow, out, qRow, hd);
            }
            if (probs != null) {
                long pRow = ((long) (b * s.numHeads() + h) * s.queryLen() + i) * s.keyStride();
                Vec.zero(probs, pRow, s.keyStride());
                MemorySegment.copy(p, 0, probs, Vec.FLOAT, pRow * Float.BYTES, n);
            }
        });
    }

    /**
     * For each query: dP_j = dout·v_j, dS_j = P_j·(dP_j − Σ_l P_l·dP_l)·scale; then dq = Σ dS_j·k_j,
     * dk_j += dS_j·q, dv_j += P_j·dout.
     */
    static void backward(MemorySegment dout, MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment probs,
                         MemorySegment lengths, MemorySegment dq, MemorySegment dk, MemorySegment dv, AttentionShape s) {
        int hd = s.headDim(), group = s.numHeads() / s.numKvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        IntStream.range(0, s.batch() * s.numKvHeads()).parallel().forEach(task -> {
            int b = task / s.numKvHeads(), kvh = task % s.numKvHeads();
            for (int j = 0; j < s.keyStride(); j++) {
                long kRow = ((long) (b * s.keyStride() + j) * s.numKvHeads() + kvh) * hd;
                Vec.zero(dk, kRow, hd);
                Vec.zero(dv, kRow, hd);
            }
            int length = Vec.getInt(lengths, b);
            float[] dp = new float[s.keyStride()];
            for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                for (int i = 0; i < s.queryLen(); i++) {
                    long qRow = ((long) (b * s.queryLen() + i) * s.numHeads() + h) * hd;
                    long pRow = ((long) (b * s.numHeads() + h) * s.queryLen() + i) * s.keyStride();
                    int n = visible(s, length, i);
                    float weighted = 0f;
                    for (int j = 0; j < n; j++) {
                        long vRow = ((long) (b * s.keyStride() + j) * s.numKvHeads() + kvh) * hd;
                        dp[j] = Vec.dot(dout, qRow, v, vRow, hd);
                        weighted += get(probs, pRow + j) * dp[j];
                    }
                    Vec.zero(dq, qRow, hd);
                    for (int j = 0; j < n; j++) {
                        long kvRow = ((long) (b * s.keyStride() + j) * s.numKvHeads() + kvh) * hd;
                        float pj = get(probs, pRow + j);
                        float ds = pj * (dp[j] - weighted) * scale;
                        Vec.axpy(ds, k, kvRow, dq, qRow, hd);
                        Vec.axpy(ds, q, qRow, dk, kvRow, hd);
                        Vec.axpy(pj, dout, qRow, dv, kvRow, hd);
                    }
                }
            }
        });
    }
}
