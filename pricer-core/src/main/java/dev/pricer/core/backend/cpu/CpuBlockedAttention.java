package dev.pricer.core.backend.cpu;

import dev.pricer.core.backend.AttentionShape;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Causal grouped-query attention as matrix products, with the contract of {@code Backend.attentionForward} and
 * {@code attentionBackward} (layouts, masking, saved probabilities, which outputs are overwritten), computed per (sequence, KV head) with {@link CpuMatmul}
 * on gathered, contiguous blocks instead of one dot product or row update per (query, key) pair.
 *
 * <p>Forward, for each head h of the group: {@code S = Q_h·Kᵀ·scale}, causal softmax by rows into P,
 * {@code O_h = P·V}. Backward: {@code dP = dO_h·Vᵀ}, {@code dS = P∘(dP − rowsum(P∘dP))·scale},
 * {@code dQ_h = dS·K}, {@code dK += dSᵀ·Q_h}, {@code dV += Pᵀ·dO_h}. Each task owns its KV head's rows of dK and
 * dV, and its scratch is confined to it, so the products inside run on the task's thread.
 */
final class CpuBlockedAttention {

    private static final VectorSpecies<Float> F = Vec.F;
    private static final int L = F.length();

    private CpuBlockedAttention() {
    }

    /** Keys visible to query i of sequence b: causal, and inside the sequence's valid length. */
    private static int visible(AttentionShape s, int validLength, int i) {
        return Math.max(0, Math.min(s.pastLen() + i + 1, validLength));
    }

    static void forward(MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment lengths,
                        MemorySegment out, MemorySegment probs, AttentionShape s) {
        int hd = s.headDim(), tq = s.queryLen(), group = s.numHeads() / s.numKvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        CpuThreads.run(s.batch() * s.numKvHeads(), task -> {
            int b = task / s.numKvHeads(), kvh = task % s.numKvHeads();
            int length = Vec.getInt(lengths, b);
            int keys = visible(s, length, tq - 1);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment kb = gatherKv(arena, k, s, b, kvh, keys), vb = gatherKv(arena, v, s, b, kvh, keys);
                MemorySegment qb = block(arena, tq, hd), p = block(arena, tq, keys), o = block(arena, tq, hd);
                for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                    gatherQ(q, qb, s, b, h);
                    CpuMatmul.matmulABt(qb, kb, p, tq, keys, hd, false);
                    for (int i = 0; i < tq; i++) softmaxRow(p, (long) i * keys, visible(s, length, i), keys, scale);
                    CpuMatmul.matmulAB(p, vb, o, tq, hd, keys, false);
                    scatterQ(o, out, s, b, h);
                    if (probs != null) {
                        for (int i = 0; i < tq; i++) {
                            long row = ((long) (b * s.numHeads() + h) * tq + i) * s.keyStride();
                            Vec.zero(probs, row, s.keyStride());
                            MemorySegment.copy(p, (long) i * keys * Float.BYTES, probs, row * Float.BYTES, (long) keys * Float.BYTES);
                        }
                    }
                }
            }
        }, q, k, v, out);
    }

    static void backward(MemorySegment dout, MemorySegment q, MemorySegment k, MemorySegment v, MemorySegment probs,
                         MemorySegment lengths, MemorySegment dq, MemorySegment dk, MemorySegment dv, AttentionShape s) {
        int hd = s.headDim(), tq = s.queryLen(), group = s.numHeads() / s.numKvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        CpuThreads.run(s.batch() * s.numKvHeads(), task -> {
            int b = task / s.numKvHeads(), kvh = task % s.numKvHeads();
            int length = Vec.getInt(lengths, b);
            int keys = visible(s, length, tq - 1);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment kb = gatherKv(arena, k, s, b, kvh, keys), vb = gatherKv(arena, v, s, b, kvh, keys);
                MemorySegment dkb = block(arena, keys, hd), dvb = block(arena, keys, hd);
                MemorySegment qb = block(arena, tq, hd), dob = block(arena, tq, hd), dqb = block(arena, tq, hd);
                MemorySegment p = block(arena, tq, keys), ds = block(arena, tq, keys);
                for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                    gatherQ(q, qb, s, b, h);
                    gatherQ(dout, dob, s, b, h);
                    for (int i = 0; i < tq; i++) {
                        long row = ((long) (b * s.numHeads() + h) * tq + i) * s.keyStride();
                        MemorySegment.copy(probs, row * Float.BYTES, p, (long) i * keys * Float.BYTES, (long) keys * Float.BYTES);
                    }
                    CpuMatmul.matmulABt(dob, vb, ds, tq, keys, hd, false);
                    for (int i = 0; i < tq; i++) softmaxBackwardRow(p, ds, (long) i * keys, keys, scale);
                    CpuMatmul.matmulAB(ds, kb, dqb, tq, hd, keys, false);
                    scatterQ(dqb, dq, s, b, h);
                    CpuMatmul.matmulAtB(ds, qb, dkb, keys, hd, tq, true);
                    CpuMatmul.matmulAtB(p, dob, dvb, keys, hd, tq, true);
                }
                for (int j = 0; j < s.keyStride(); j++) {
                    long row = ((long) (b * s.keyStride() + j) * s.numKvHeads() + kvh) * hd;
                    if (j < keys) {
                        MemorySegment.copy(dkb, (long) j * hd * Float.BYTES, dk, row * Float.BYTES, (long) hd * Float.BYTES);
                        MemorySegment.copy(dvb, (long) j * hd * Float.BYTES, dv, row * Float.BYTES, (long) hd * Float.BYTES);
                    } else {
                        Vec.zero(dk, row, hd);
                        Vec.zero(dv, row, hd);
                    }
                }
            }
        }, dout, q, k, v, probs, dq, dk, dv);
    }

    /** Row {@code [offset, offset + width)} of scores becomes the softmax of its first {@code n} entries times scale, zero after. */
    private static void softmaxRow(MemorySegment p, long offset, int n, int width, float scale) {
        int full = F.loopBound(n);
        FloatVector maxes = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < full; j += L) maxes = maxes.max(Vec.load(p, offset + j));
        float max = maxes.reduceLanes(VectorOperators.MAX);
        for (int j = full; j < n; j++) max = Math.max(max, Vec.get(p, offset + j));
        // exp(x·scale − max·scale): scale > 0, so the largest scaled score is the scaled largest score.
        float shift = max * scale;
        FloatVector sums = FloatVector.zero(F);
        for (int j = 0; j < full; j += L) {
            FloatVector e = Exp.exp(Vec.load(p, offset + j).mul(scale).sub(shift));
            Vec.store(e, p, offset + j);
            sums = sums.add(e);
        }
        float sum = Vec.sum(sums);
        for (int j = full; j < n; j++) {
            float e = Exp.exp(Vec.get(p, offset + j) * scale - shift);
            Vec.set(p, offset + j, e);
            sum += e;
        }
        Vec.scale(p, offset, 1f / sum, n);
        Vec.zero(p, offset + n, width - n);
    }

    /** dS = P∘(dP − Σ P∘dP)·scale in place of dP; masked keys have P = 0, so their dS is 0. */
    private static void softmaxBackwardRow(MemorySegment p, MemorySegment dp, long offset, int width, float scale) {
        float weighted = Vec.dot(p, offset, dp, offset, width);
        int full = F.loopBound(width);
        for (int j = 0; j < full; j += L) {
            Vec.store(Vec.load(p, offset + j).mul(Vec.load(dp, offset + j).sub(weighted)).mul(scale), dp, offset + j);
        }
        for (int j = full; j < width; j++) {
            Vec.set(dp, offset + j, Vec.get(p, offset + j) * (Vec.get(dp, offset + j) - weighted) * scale);
        }
    }

    private static MemorySegment block(Arena arena, int rows, int cols) {
        return arena.allocate((long) Math.max(1, rows) * Math.max(1, cols) * Float.BYTES, 64);
    }

    /** Rows j < keys of KV head kvh of sequence b, contiguous. */
    private static MemorySegment gatherKv(Arena arena, MemorySegment kv, AttentionShape s, int b, int kvh, int keys) {
        int hd = s.headDim();
        MemorySegment dst = block(arena, keys, hd);
        for (int j = 0; j < keys; j++) {
            long row = ((long) (b * s.keyStride() + j) * s.numKvHeads() + kvh) * hd;
            MemorySegment.copy(kv, row * Float.BYTES, dst, (long) j * hd * Float.BYTES, (long) hd * Float.BYTES);
        }
        return dst;
    }

    private static void gatherQ(MemorySegment src, MemorySegment dst, AttentionShape s, int b, int h) {
        int hd = s.headDim();
        for (int i = 0; i < s.queryLen(); i++) {
            long row = ((long) (b * s.queryLen() + i) * s.numHeads() + h) * hd;
            MemorySegment.copy(src, row * Float.BYTES, dst, (long) i * hd * Float.BYTES, (long) hd * Float.BYTES);
        }
    }

    private static void scatterQ(MemorySegment src, MemorySegment dst, AttentionShape s, int b, int h) {
        int hd = s.headDim();
        for (int i = 0; i < s.queryLen(); i++) {
            long row = ((long) (b * s.queryLen() + i) * s.numHeads() + h) * hd;
            MemorySegment.copy(src, (long) i * hd * Float.BYTES, dst, row * Float.BYTES, (long) hd * Float.BYTES);
        }
    }
}
