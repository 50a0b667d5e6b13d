package dev.pricer.cuda;

import dev.pricer.cuda.lib.Driver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;


/**
 * Typed launches of the project's kernels (sources under {@code resources/dev/pricer/cuda/kernels}).
 * Each method names the shapes it expects; buffers hold row-major data of the given {@link ElementType}
 * unless the parameter says float (statistics, optimizer state, losses) or int (indices).
 */
public final class Kernels {

    private static final int THREADS = 256;
    private static final int ATTENTION_TILE = 32;
    private static final int ATTENTION_THREADS = 256;
    private static final java.util.Set<Integer> HEAD_DIMS = java.util.Set.of(16, 32, 64, 128, 256);
    /** Per block: 8 warps × 32 keys × the probabilities of 4 rows. */
    private static final int PROBABILITY_FLOATS = 8 * 32 * 4;
    private static final int DEFAULT_SHARED_BYTES = 48 << 10;
    private static final java.util.Set<Integer> MMA_HEAD_DIMS = java.util.Set.of(64, 128);
    /** attention_mma.cu's WARPS × 32, ROWS_PER_BLOCK (= KEY_TILE), DKDV_KEY_TILE and DKDV_QUERY_TILE. */
    private static final int MMA_THREADS = 128;
    private static final int MMA_TILE = 64;
    private static final int MMA_DKDV_KEYS = 32;
    private static final int MMA_DKDV_QUERIES = 64;
    /** Elements per thread step of the {@code *_vec} kernels (vector.cuh's VEC), and their alignment in bytes. */
    private static final int VEC = 8;
    private static final int VEC_ALIGN = 16;
    /** vector.cuh's ROW_CHUNKS: how many chunks of 8 of a row each thread of a {@code rmsnorm_*_vec} block holds. */
    private static final int ROW_CHUNKS = 4;
    /** CUDA's limit on a grid's y dimension: the most buffers one {@code *_multi} launch walks. */
    private static final int MAX_GRID_Y = 65535;
    /**
     * nf4_gemm.cu's STAGES, the bytes of a stage besides its tokens, its barriers, book, map and alignment slack, and
     * its threads (two consumer warpgroups and a producer warp).
     */
    private static final int NF4_GEMM_STAGES = 5;
    private static final int NF4_GEMM_STAGE_EXTRA = 5120;
    private static final int NF4_GEMM_SHARED_EXTRA = 2 * NF4_GEMM_STAGES * Long.BYTES + (16 + 256) * Float.BYTES + 1024;
    private static final int NF4_GEMM_THREADS = 288;
    /** Output columns per block, reduction elements per stage (one NF4 block), tokens per tile and the most tiles per block. */
    private static final int NF4_GEMM_COLUMNS = 128;
    private static final int NF4_GEMM_TILE = 64;
    private static final int NF4_GEMM_STEP = 64;
    private static final int NF4_GEMM_MAX_TILES = 4;

    private final Cuda cuda;
    /** bf16 mma.sync, which the tensor-core attention needs: sm_80 and later. */
    private final boolean bf16Mma;

    public Kernels(Cuda cuda) {
        this.cuda = cuda;
        this.bf16Mma = Integer.parseInt(cuda.arch().substring(3)) >= 80;
    }

    public Cuda cuda() {
        return cuda;
    }

    /** out = w * rmsnorm(x) over rows of {@code dim}; rstd[rows] keeps 1/rms for the backward pass. */
    public void rmsnormForward(ElementType t, DeviceBuffer out, DeviceBuffer rstd, DeviceBuffer x, DeviceBuffer w, int rows, int dim, float eps) {
        if (rowVectors(dim, out, x, w)) {
            launchRowVectors("rmsnorm_fwd_vec_" + t.suffix(), rows, dim, out, rstd, x, w, rows, dim, eps);
            return;
        }
        launchRows("norm.cu", "rmsnorm_fwd_" + t.suffix(), rows, dim, out, rstd, x, w, rows, dim, eps);
    }

    /** {@link #rmsnormForward} from float x and weight into bf16 out: the float residual stream feeding bf16 activations. */
    public void rmsnormForwardToBf16(DeviceBuffer out, DeviceBuffer rstd, DeviceBuffer x, DeviceBuffer w, int rows, int dim, float eps) {
        if (rowVectors(dim, out, x, w)) {
            launchRowVectors("rmsnorm_fwd_vec_f32_to_bf16", rows, dim, out, rstd, x, w, rows, dim, eps);
            return;
        }
        launchRows("norm.cu", "rmsnorm_fwd_f32_to_bf16", rows, dim, out, rstd, x, w, rows, dim, eps);
    }

    /** dweight[dim] (float) += Σ_rows dy·x·rstd: the norm weight's gradient, for full training. */
    public void rmsnormWeightGrad(DeviceBuffer dweight, DeviceBuffer dy, DeviceBuffer x, DeviceBuffer rstd, int rows, int dim) {
        cuda.launch(cuda.function("norm.cu", "rmsnorm_dweight"), (int) ceilDiv(dim, THREADS), 1, 1, THREADS, 0, dweight, dy, x, rstd, rows, dim);
    }

    /**
     * dx = dResidual + d rmsnorm / dx · dy, added in that order; {@code dResidual} may be dx itself (which then
     * accumulates) or null (none). Where the vector kernel runs, dx also goes to {@code copy} in bf16 (null: nowhere).
     * Returns whether {@code copy} was written.
     */
    public boolean rmsnormBackward(ElementType t, DeviceBuffer dx, DeviceBuffer copy, DeviceBuffer dResidual, DeviceBuffer dy, DeviceBuffer x,
                                   DeviceBuffer w, DeviceBuffer rstd, int rows, int dim) {
        if (rowVectors(dim, dx, dy, x, w) && (copy == null || vectors(0, copy)) && (dResidual == null || vectors(0, dResidual))) {
            launchRowVectors("rmsnorm_bwd_vec_" + t.suffix(), rows, dim, dx, copy, dResidual, dy, x, w, rstd, rows, dim);
            return copy != null;
        }
        launchRows("norm.cu", "rmsnorm_bwd_" + t.suffix(), rows, dim, dx, dResidual, dy, x, w, rstd, rows, dim);
        return false;
    }

    /**
     * Rotates x [tokens, heads, headDim] in place by the angles of each token's position (int[tokens]);
     * cos/sin tables are float [positions, headDim/2]. {@code inverse} applies the transpose (backward).
     */
    public void rope(ElementType t, DeviceBuffer x, DeviceBuffer positions, DeviceBuffer cos, DeviceBuffer sin,
                     int tokens, int heads, int headDim, boolean inverse) {
        if (headDim % (2 * VEC) == 0 && vectors(0, x, cos, sin)) {
            launchElements("rope.cu", "rope_vec_" + t.suffix(), (long) tokens * heads * (headDim / 2 / VEC),
                    x, positions, cos, sin, tokens, heads, headDim, inverse ? -1f : 1f);
            return;
        }
        launchElements("rope.cu", "rope_" + t.suffix(), (long) tokens * heads * (headDim / 2),
                x, positions, cos, sin, tokens, heads, headDim, inverse ? -1f : 1f);
    }

    /** h[rows, cols] = silu(g) * u, with g and u rows {@code ldg} and {@code ldu} elements apart. */
    public void swigluForward(ElementType t, DeviceBuffer h, DeviceBuffer g, DeviceBuffer u, int rows, int cols, int ldg, int ldu) {
        long n = (long) rows * cols;
        if (ldg == cols && ldu == cols && vectors(n, h, g, u)) {
            launchVectors("swiglu.cu", "swiglu_fwd_vec_" + t.suffix(), n, h, g, u, n);
            return;
        }
        launchElements("swiglu.cu", "swiglu_fwd_" + t.suffix(), (long) rows * cols, h, g, u, rows, cols, ldg, ldu);
    }

    /**
     * dg, du from dh; g and u rows {@code ldg} and {@code ldu} elements apart, dg and du rows {@code ldd} apart
     * (du = dg + cols with ldd = 2·cols: one {@code [dg | du]} buffer). May write over g and u (pass the same
     * buffers, ldd = ldg = ldu).
     */
    public void swigluBackward(ElementType t, DeviceBuffer dg, DeviceBuffer du, DeviceBuffer dh, DeviceBuffer g, DeviceBuffer u,
                               int rows, int cols, int ldg, int ldu, int ldd) {
        swigluBackward(t.suffix(), dg, du, dh, g, u, rows, cols, ldg, ldu, ldd);
    }

    /** {@link #swigluBackward} with bf16 g and u (kept activations) and float dh, dg and du. */
    public void swigluBackwardFromBf16(DeviceBuffer dg, DeviceBuffer du, DeviceBuffer dh, DeviceBuffer g, DeviceBuffer u,
                                       int rows, int cols, int ldg, int ldu, int ldd) {
        swigluBackward("bf16_f32", dg, du, dh, g, u, rows, cols, ldg, ldu, ldd);
    }

    /**
     * The entry of {@code types} (swiglu_bwd_TYPES or swiglu_bwd_vec_TYPES): the vector kernel needs contiguous
     * inputs and rows of dg and du that start on 16 bytes.
     */
    private void swigluBackward(String types, DeviceBuffer dg, DeviceBuffer du, DeviceBuffer dh, DeviceBuffer g, DeviceBuffer u,
                                int rows, int cols, int ldg, int ldu, int ldd) {
        long n = (long) rows * cols;
        if (ldg == cols && ldu == cols && cols % VEC == 0 && ldd % VEC == 0 && vectors(n, dg, du, dh, g, u)) {
            launchVectors("swiglu.cu", "swiglu_bwd_vec_" + types, n, dg, du, dh, g, u, n, (long) cols, (long) ldd);
            return;
        }
        launchElements("swiglu.cu", "swiglu_bwd_" + types, n, dg, du, dh, g, u, rows, cols, ldg, ldu, ldd);
    }

    /**
     * Causal GQA attention. q, out: rows b·seq + i of [batch·seq, heads·headDim]; k, v: rows b·keyStride + j of
     * [batch·keyStride, kvHeads·headDim]. Query i is at position past + i and sees keys j ≤ past + i below
     * lengths[b] (int, one per sequence; null: no padding). lse: float [batch, heads, seq], kept for backward.
     */
    public void attentionForward(ElementType t, DeviceBuffer out, DeviceBuffer lse, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v,
                                 DeviceBuffer lengths, int batch, int seq, int keyStride, int past, int heads, int kvHeads,
                                 int headDim, float scale) {
        checkAttention(heads, kvHeads, headDim);
        int floats = ATTENTION_TILE * (headDim + 4) + 2 * ATTENTION_TILE * headDim + PROBABILITY_FLOATS;
        launchAttention("attention_fwd_" + t.suffix() + "_" + headDim, seq, heads, batch, floats,
                out, lse, q, k, v, lengths, seq, keyStride, past, heads, kvHeads, scale);
    }

    /**
     * Gradients of {@link #attentionForward} from dout and the saved lse. Scratch: delta, float [batch, heads, seq],
     * and partials, float 2 · [batch · keyStride, heads, headDim] (each query head's share of dk and dv before
     * the group sum). dq, dk and dv are overwritten (keys no query sees get zeros).
     */
    public void attentionBackward(ElementType t, DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, DeviceBuffer delta,
                                  DeviceBuffer partials, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer dout,
                                  DeviceBuffer lse, DeviceBuffer lengths, int batch, int seq, int keyStride, int past,
                                  int heads, int kvHeads, int headDim, float scale) {
        attentionBackward(t, t, dq, dk, dv, delta, partials, q, k, v, dout, lse, lengths, batch, seq, keyStride, past, heads, kvHeads, headDim, scale);
    }

    /**
     * As above with q, k, v of type {@code t} and dout, dq, dk, dv of type {@code grad}: bf16 and float are the
     * mixed pair, bf16 activations kept from the forward pass with a float backward pass.
     */
    public void attentionBackward(ElementType t, ElementType grad, DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, DeviceBuffer delta,
                                  DeviceBuffer partials, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer dout,
                                  DeviceBuffer lse, DeviceBuffer lengths, int batch, int seq, int keyStride, int past,
                                  int heads, int kvHeads, int headDim, float scale) {
        checkAttention(heads, kvHeads, headDim);
        if (t == ElementType.F32 && grad == ElementType.BF16) throw new IllegalArgumentException("no attention backward from float inputs to bf16 gradients");
        String types = t == grad ? t.suffix() : t.suffix() + "_" + grad.suffix();
        long share = (long) batch * keyStride * heads * headDim * Float.BYTES;
        if (partials.bytes() < 2 * share) throw new IllegalArgumentException("attention partials need " + 2 * share + " bytes, got " + partials);
        DeviceBuffer dkPart = partials.slice(0, share), dvPart = partials.slice(share, share);
        int staged = 2 * ATTENTION_TILE * (headDim + 4) + 2 * ATTENTION_TILE * headDim;
        launchAttention("attention_bwd_dq_" + types + "_" + headDim, seq, heads, batch, staged + PROBABILITY_FLOATS,
                dq, delta, q, k, v, dout, lse, lengths, seq, keyStride, past, heads, kvHeads, scale);
        launchAttention("attention_bwd_dkdv_" + types + "_" + headDim, keyStride, heads, batch, staged + 2 * PROBABILITY_FLOATS,
                dkPart, dvPart, q, k, v, dout, lse, delta, lengths, seq, keyStride, past, heads, kvHeads, scale);
        long rows = (long) batch * keyStride;
        launchElements("attention.cu", "attention_reduce_kv_" + grad.suffix(), rows * kvHeads * headDim,
                dk, dv, dkPart, dvPart, rows, heads, kvHeads, headDim);
    }

    /**
     * Whether the tensor-core attention ({@code attention_mma.cu}) is built for this shape and GPU: whole sequences
     * (no past, keys the queries' own rows), head dims 64 and 128, bf16 mma (sm_80 and later).
     */
    public boolean attentionMmaFits(int seq, int keyStride, int past, int heads, int kvHeads, int headDim) {
        return past == 0 && keyStride == seq && MMA_HEAD_DIMS.contains(headDim) && kvHeads > 0 && heads % kvHeads == 0
                && bf16Mma;
    }

    /**
     * {@link #attentionForward} on the tensor cores, for a shape {@link #attentionMmaFits} accepts: bf16 q, k, v and
     * out, every buffer 16-byte aligned.
     */
    public void attentionMmaForward(DeviceBuffer out, DeviceBuffer lse, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v,
                                    DeviceBuffer lengths, int batch, int seq, int heads, int kvHeads, int headDim, float scale) {
        checkMma(seq, heads, kvHeads, headDim, out, q, k, v);
        int bytes = 2 * 3 * MMA_TILE * (headDim + 8);
        launchMma("attention_mma_fwd_" + headDim, (int) ceilDiv(seq, MMA_TILE), heads, batch, bytes,
                out, lse, q, k, v, lengths, seq, heads, kvHeads, scale);
    }

    /**
     * {@link #attentionBackward} on the tensor cores: bf16 q, k, v and the forward's output {@code out}; dout, dq, dk,
     * dv of type {@code grad}; delta, float [batch, heads, seq], is scratch. dq, dk and dv are overwritten (keys no
     * query sees get zeros).
     */
    public void attentionMmaBackward(ElementType grad, DeviceBuffer dq, DeviceBuffer dk, DeviceBuffer dv, DeviceBuffer delta,
                                     DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer out, DeviceBuffer dout,
                                     DeviceBuffer lse, DeviceBuffer lengths, int batch, int seq, int heads, int kvHeads,
                                     int headDim, float scale) {
        checkMma(seq, heads, kvHeads, headDim, dq, dk, dv, q, k, v, out, dout);
        int dqBytes = 2 * 4 * MMA_TILE * (headDim + 8);
        launchMma("attention_mma_bwd_dq_" + grad.suffix() + "_" + headDim, (int) ceilDiv(seq, MMA_TILE), heads, batch, dqBytes,
                dq, delta, q, k, v, out, dout, lse, lengths, seq, heads, kvHeads, scale);
        int dkdvBytes = 2 * (2 * MMA_DKDV_KEYS + 2 * MMA_DKDV_QUERIES) * (headDim + 8);
        launchMma("attention_mma_bwd_dkdv_" + grad.suffix() + "_" + headDim, (int) ceilDiv(seq, MMA_DKDV_KEYS), kvHeads, batch, dkdvBytes,
                dk, dv, q, k, v, dout, lse, delta, lengths, seq, heads, kvHeads, scale);
    }

    private void checkMma(int seq, int heads, int kvHeads, int headDim, DeviceBuffer... buffers) {
        if (!attentionMmaFits(seq, seq, 0, heads, kvHeads, headDim)) {
            throw new IllegalArgumentException("the tensor-core attention has no kernel for " + heads + "/" + kvHeads
                    + " heads of dimension " + headDim + " on " + cuda.arch());
        }
        for (DeviceBuffer b : buffers) {
            if (b.address() % 16 != 0) throw new IllegalArgumentException("the tensor-core attention needs 16-byte aligned buffers, got " + b);
        }
    }

    /**
     * A block of 4 warps per (tile, head, sequence), on a grid (heads, batch, tiles): tiles slowest, so blocks start
     * tile by tile (attention_mma.cu says why). The dynamic shared memory is its bf16 tiles, rows padded by 8.
     */
    private void launchMma(String entry, int tiles, int heads, int batch, int sharedBytes, Object... args) {
        MemorySegment function = cuda.function("attention_mma.cu", entry);
        if (sharedBytes > DEFAULT_SHARED_BYTES) cuda.allowSharedMemory(function, sharedBytes);
        cuda.launch(function, heads, batch, tiles, MMA_THREADS, sharedBytes, args);
    }

    /** Bytes of the partials scratch {@link #attentionBackward} needs. */
    public static long attentionPartialBytes(int batch, int keyStride, int heads, int headDim) {
        return 2L * batch * keyStride * heads * headDim * Float.BYTES;
    }

    /**
     * dst [batch·hq, seq, d] (bf16) from src (type t) rows b·seq + i of [batch·seq, heads·d], query head h reading
     * src head h / (hq / heads): the head-major, group-repeated layout of {@link GemmAttention}'s products.
     */
    public void attentionPack(ElementType t, DeviceBuffer dst, DeviceBuffer src, int batch, int seq, int heads, int hq, int d) {
        launchElements("attention_gemm.cu", "attention_pack_" + t.suffix(), (long) batch * hq * seq * d, dst, src, batch, seq, heads, hq, d);
    }

    /** out (type t) rows b·seq + i of [batch·seq, hq·d] from src [batch·hq, seq, d] (float). */
    public void attentionUnpack(ElementType t, DeviceBuffer out, DeviceBuffer src, int batch, int seq, int hq, int d) {
        launchElements("attention_gemm.cu", "attention_unpack_" + t.suffix(), (long) batch * seq * hq * d, out, src, batch, seq, hq, d);
    }

    /** dk, dv (type t) [batch·seq, hkv·d]: group sums of the per-query-head dkh, dvh [batch·hq, seq, d] (float). */
    public void attentionReduceHeads(ElementType t, DeviceBuffer dk, DeviceBuffer dv, DeviceBuffer dkh, DeviceBuffer dvh,
                                     int batch, int seq, int hq, int hkv, int d) {
        launchElements("attention_gemm.cu", "attention_reduce_heads_" + t.suffix(), (long) batch * seq * hkv * d,
                dk, dv, dkh, dvh, batch, seq, hq, hkv, d);
    }

    /**
     * Causal softmax of the scaled scores [rows, ld] (float, rows = batch·hq·seq): p (bf16, same layout, zero where
     * masked) and lse (float [rows]). Query i sees keys j ≤ i below lengths[b].
     */
    public void attentionSoftmax(DeviceBuffer p, DeviceBuffer lse, DeviceBuffer scores, DeviceBuffer lengths, int rows, int seq, int hq, int ld) {
        launchWarpRows("attention_softmax", rows, p, lse, scores, lengths, rows, seq, hq, ld);
    }

    /** The softmax's backward from scores, dp (float) and lse: p and ds = p·(dp − Σ p·dp), both bf16. */
    public void attentionSoftmaxBackward(DeviceBuffer p, DeviceBuffer ds, DeviceBuffer scores, DeviceBuffer dp, DeviceBuffer lse,
                                         DeviceBuffer lengths, int rows, int seq, int hq, int ld) {
        launchWarpRows("attention_softmax_bwd", rows, p, ds, scores, dp, lse, lengths, rows, seq, hq, ld);
    }

    /** Folds logits [rows, cols] (vocabulary columns c0..c0+cols) into the running row max and sum. */
    public void crossEntropyChunk(DeviceBuffer logits, int rows, int cols, int c0, DeviceBuffer targets,
                                  DeviceBuffer rowMax, DeviceBuffer rowSum, DeviceBuffer targetLogit) {
        launchRows("loss.cu", "ce_chunk_stats", rows, cols, logits, rows, cols, c0, targets, rowMax, rowSum, targetLogit);
    }

    public void crossEntropyFinish(DeviceBuffer loss, DeviceBuffer lse, DeviceBuffer rowMax, DeviceBuffer rowSum,
                                   DeviceBuffer targetLogit, int rows) {
        cuda.launch(cuda.function("loss.cu", "ce_finish"), (int) ceilDiv(rows, THREADS), 1, 1, THREADS, 0,
                loss, lse, rowMax, rowSum, targetLogit, rows);
    }

    /** dlogits [rows, cols] in type t = (softmax - onehot) * dloss[row], for one vocabulary chunk. */
    public void crossEntropyChunkGrad(ElementType t, DeviceBuffer dlogits, DeviceBuffer logits, int rows, int cols, int c0,
                                      DeviceBuffer targets, DeviceBuffer lse, DeviceBuffer dloss) {
        launchRows("loss.cu", "ce_chunk_grad_" + t.suffix(), rows, cols, dlogits, logits, rows, cols, c0, targets, lse, dloss);
    }

    /** acc (one double, zeroed first) += sum of squares of n floats. */
    public void sumSquares(DeviceBuffer g, long n, DeviceBuffer acc) {
        launchElements("optim.cu", "sum_squares", n, g, n, acc);
    }

    /**
     * acc (one double) += the sum of squares of {@code count} float buffers in one launch: {@code table} holds
     * their addresses, then their lengths (longs); {@code longest} is the largest length.
     */
    public void sumSquares(DeviceBuffer table, int count, long longest, DeviceBuffer acc) {
        launchTable("sum_squares_multi", count, longest, table.slice(0, 8L * count), table.slice(8L * count, 8L * count), acc);
    }

    /**
     * {@link #adamw} over {@code count} buffers in one launch. {@code table} holds, as longs, the addresses of
     * the parameters, gradients, first and second moments and bf16 shadows (0 for none), then the lengths.
     */
    public void adamw(DeviceBuffer table, int count, long longest, float lr, float beta1, float beta2, float eps, float weightDecay,
                      int step, DeviceBuffer gradScale) {
        float bc1 = 1f - (float) StrictMath.pow(beta1, step);
        float bc2 = (float) (1 - StrictMath.pow(beta2, step));
        long column = 8L * count;
        launchTable("adamw_multi", count, longest, table.slice(0, column), table.slice(column, column), table.slice(2 * column, column),
                table.slice(3 * column, column), table.slice(4 * column, column), table.slice(5 * column, column),
                lr, beta1, beta2, eps, weightDecay, bc1, bc2, gradScale);
    }

    /** A row of blocks per buffer (grid y), enough of them in all to fill the GPU. */
    private void launchTable(String entry, int count, long longest, Object... args) {
        if (count > MAX_GRID_Y) throw new IllegalArgumentException(count + " buffers in one launch; the grid holds at most " + MAX_GRID_Y);
        long perBuffer = Math.clamp(ceilDiv(longest, THREADS), 1, Math.max(4, (long) cuda.multiprocessors() * 16 / count));
        cuda.launch(cuda.function("optim.cu", entry), (int) perBuffer, count, 1, THREADS, 0, args);
    }

    /** norm = sqrt(acc), scale = min(1, maxNorm / (norm + 1e-6)); both one float. */
    public void clipFactor(DeviceBuffer acc, float maxNorm, DeviceBuffer norm, DeviceBuffer scale) {
        cuda.launch(cuda.function("optim.cu", "clip_factor"), 1, 1, 1, 1, 0, acc, maxNorm, norm, scale);
    }

    /**
     * One AdamW step over n float parameters, gradients scaled by {@code gradScale[0]} (null: 1). The new
     * parameters are also written to {@code shadow} in type t when it is not null.
     */
    public void adamw(ElementType t, DeviceBuffer params, DeviceBuffer grads, DeviceBuffer m, DeviceBuffer v, DeviceBuffer shadow,
                      long n, float lr, float beta1, float beta2, float eps, float weightDecay, int step, DeviceBuffer gradScale) {
        float bc1 = 1f - (float) StrictMath.pow(beta1, step);
        float bc2 = (float) (1 - StrictMath.pow(beta2, step));
        launchElements("optim.cu", "adamw_" + t.suffix(), n, params, grads, m, v, shadow, n, lr, beta1, beta2, eps,
                weightDecay, bc1, bc2, gradScale);
    }

    /** out[r] = table[index[r]] for rows of {@code dim}. */
    public void gatherRows(ElementType t, DeviceBuffer out, DeviceBuffer table, DeviceBuffer index, int rows, int dim) {
        launchElements("rows.cu", "gather_rows_" + t.suffix(), (long) rows * dim, out, table, index, rows, dim);
    }

    /** out[r] (float) = table[index[r]] (bf16): the embedding lookup of a bf16 table. */
    public void gatherRowsFromBf16(DeviceBuffer out, DeviceBuffer table, DeviceBuffer index, int rows, int dim) {
        launchElements("rows.cu", "gather_rows_bf16_to_f32", (long) rows * dim, out, table, index, rows, dim);
    }

    /** tableGrad[index[r]] += src[r] in float, atomically (indices may repeat). */
    public void scatterAddRows(ElementType t, DeviceBuffer tableGrad, DeviceBuffer src, DeviceBuffer index, int rows, int dim) {
        launchElements("rows.cu", "scatter_add_rows_" + t.suffix(), (long) rows * dim, tableGrad, src, index, rows, dim);
    }

    /** out[index[r]] = src[r]; indices must be distinct. */
    public void scatterRows(ElementType t, DeviceBuffer out, DeviceBuffer src, DeviceBuffer index, int rows, int dim) {
        launchElements("rows.cu", "scatter_rows_" + t.suffix(), (long) rows * dim, out, src, index, rows, dim);
    }

    public void toBf16(DeviceBuffer out, DeviceBuffer in, long n) {
        if (vectors(n, out, in)) {
            launchVectors("elementwise.cu", "f32_to_bf16_vec", n, out, in, n);
            return;
        }
        launchElements("elementwise.cu", "f32_to_bf16", n, out, in, n);
    }

    public void toF32(DeviceBuffer out, DeviceBuffer in, long n) {
        launchElements("elementwise.cu", "bf16_to_f32", n, out, in, n);
    }

    /**
     * out[i] (type t) = the NF4 weight's value at flattened element i, for i < n (see nf4.cu): {@code codes} null for
     * float {@code absmax}, else {@code absmax} null and the double quantization's codes, nested absmax, nested map and
     * offset given. {@code codebook} holds the 16 float NF4 values. Block sizes are powers of two (bitsandbytes' are 64
     * and 256), so the kernel finds a block by a shift; out must be 16-byte aligned.
     */
    public void nf4Dequantize(ElementType t, DeviceBuffer out, DeviceBuffer packed, DeviceBuffer codes, DeviceBuffer absmax,
                              DeviceBuffer nestedAbsmax, DeviceBuffer nestedMap, DeviceBuffer codebook,
                              int blockSize, int nestedBlockSize, float offset, long n) {
        checkNf4BlockSizes(blockSize, codes != null, nestedBlockSize);
        if (out.bytes() < n * t.bytes() || packed.bytes() < (n + 1) / 2) {
            throw new IllegalArgumentException("NF4 dequantization of " + n + " elements into " + out + " from " + packed);
        }
        if (out.address() % VEC_ALIGN != 0) throw new IllegalArgumentException("NF4 dequantization needs a 16-byte aligned output, got " + out);
        if (n == 0) return;
        int blockShift = Integer.numberOfTrailingZeros(blockSize), nestedShift = Integer.numberOfTrailingZeros(Math.max(nestedBlockSize, 1));
        // A thread per 64 elements (each warp two groups of 1024), at most 32 blocks an SM: on an H200 the 8B weights
        // dequantize 2% faster than with at most 16 (scripts/nf4_dequant_probe.py).
        long blocks = Math.clamp(ceilDiv(ceilDiv(n, 64L), THREADS), 1, (long) cuda.multiprocessors() * 32);
        cuda.launch(cuda.function("nf4.cu", "nf4_dequant_" + t.suffix()), (int) blocks, 1, 1, THREADS, 0,
                out, packed, codes, absmax, nestedAbsmax, nestedMap, codebook, blockShift, nestedShift, offset, n);
    }

    /** Whether this GPU runs the fused NF4 product ({@link #nf4Gemm}): it needs Hopper's warpgroup MMA (sm_90a). */
    public boolean nf4GemmAvailable() {
        return cuda.arch().equals("sm_90");
    }

    /**
     * Whether {@link #nf4Gemm} takes a product of m rows, n output columns and reduction k over a weight in NF4
     * blocks of {@code blockSize}: blocks of 64 (one per weight row and reduction stage), n a multiple of 128 and k
     * of 64. Other products dequantize first.
     */
    public static boolean nf4GemmFits(int blockSize, int m, int n, int k) {
        return blockSize == NF4_GEMM_STEP && m > 0 && n % NF4_GEMM_COLUMNS == 0 && k % NF4_GEMM_STEP == 0;
    }

    /**
     * d[m×n] = a[m×k] · op(W) + beta · addend, with the NF4 weight decoded inside the product (nf4_gemm.cu): W is
     * [n, k] when {@code forward} (op(W) = Wᵀ, a layer's forward) and [k, n] otherwise (its input gradient). a is
     * bf16; d and addend (d itself or another buffer) are of type {@code out}, and addend is not read when beta is
     * 0. Scales as {@link #nf4Dequantize}: float absmax, or codes with the nested absmax, map and offset.
     */
    public void nf4Gemm(ElementType out, boolean forward, DeviceBuffer d, DeviceBuffer a, DeviceBuffer packed, DeviceBuffer codes,
                        DeviceBuffer absmax, DeviceBuffer nestedAbsmax, DeviceBuffer nestedMap, int nestedBlockSize, float offset,
                        DeviceBuffer codebook, DeviceBuffer addend, float beta, int m, int n, int k) {
        if (!nf4GemmAvailable()) throw new IllegalStateException("the fused NF4 product needs an sm_90 GPU (Hopper), this is " + cuda.arch());
        if (!nf4GemmFits(NF4_GEMM_STEP, m, n, k)) {
            throw new IllegalArgumentException("the fused NF4 product needs m > 0, n a multiple of " + NF4_GEMM_COLUMNS + " and k of "
                    + NF4_GEMM_STEP + ", got m=" + m + ", n=" + n + ", k=" + k);
        }
        if (d.bytes() < (long) m * n * out.bytes() || a.bytes() < (long) m * k * 2 || packed.bytes() < (long) n * k / 2
                || (beta != 0 && addend.bytes() < (long) m * n * out.bytes())) {
            throw new IllegalArgumentException("fused NF4 product " + m + "×" + k + " by " + (forward ? n + "×" + k : k + "×" + n)
                    + ": buffers too small (d " + d + ", a " + a + ", codes " + packed + ", addend " + addend + ")");
        }
        if (a.address() % VEC_ALIGN != 0 || packed.address() % VEC_ALIGN != 0) {
            throw new IllegalArgumentException("the fused NF4 product loads a and the codes by TMA: both must be 16-byte aligned, got " + a + ", " + packed);
        }
        int tiles = nf4GemmTiles(m), tokens = NF4_GEMM_TILE * tiles;
        int shared = NF4_GEMM_STAGES * (tokens * NF4_GEMM_STEP * 2 + NF4_GEMM_STAGE_EXTRA) + NF4_GEMM_SHARED_EXTRA;
        MemorySegment function = cuda.function("nf4_gemm.cu", "nf4_gemm_" + (forward ? "fwd_" : "bwd_") + out.suffix() + "_" + tiles);
        cuda.allowSharedMemory(function, shared);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tokensMap = cuda.tensorMap(arena, Driver.TENSOR_BFLOAT16, a, k, m, k * 2L, NF4_GEMM_STEP, tokens, Driver.SWIZZLE_128B);
            // A stage's codes: going forward 128 weight rows of one block (32 bytes), going backward a block's 64 rows of 128 columns.
            MemorySegment codesMap = forward
                    ? cuda.tensorMap(arena, Driver.TENSOR_UINT8, packed, k / 2, n, k / 2, NF4_GEMM_STEP / 2, NF4_GEMM_COLUMNS, Driver.SWIZZLE_NONE)
                    : cuda.tensorMap(arena, Driver.TENSOR_UINT8, packed, n / 2, k, n / 2, NF4_GEMM_COLUMNS / 2, NF4_GEMM_STEP, Driver.SWIZZLE_NONE);
            cuda.launch(function, (int) ceilDiv(m, (long) tokens), n / NF4_GEMM_COLUMNS, 1, NF4_GEMM_THREADS, shared,
                    d, tokensMap, codesMap, codes, absmax, nestedAbsmax, nestedMap, Integer.numberOfTrailingZeros(Math.max(nestedBlockSize, 1)),
                    offset, codebook, beta == 0 ? null : addend, beta, m, n, k);
        }
    }

    /** 64-token tiles per block: the fewest padded rows, then the most tiles (each weight step decoded for more tokens). */
    static int nf4GemmTiles(int m) {
        int best = NF4_GEMM_MAX_TILES;
        for (int tiles = NF4_GEMM_MAX_TILES - 1; tiles >= 1; tiles--) {
            if (ceilDiv(m, (long) NF4_GEMM_TILE * tiles) * tiles < ceilDiv(m, (long) NF4_GEMM_TILE * best) * best) best = tiles;
        }
        return best;
    }

    /**
     * The NF4 block sizes the dequantization kernel takes: powers of two, of at least 8 elements (a word of codes)
     * for the absmax blocks, and for the double quantization's nested blocks.
     */
    static void checkNf4BlockSizes(int blockSize, boolean doubleQuantized, int nestedBlockSize) {
        if (blockSize < 8 || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("NF4 block size " + blockSize + " is not a power of two of at least 8");
        }
        if (doubleQuantized && (nestedBlockSize <= 0 || Integer.bitCount(nestedBlockSize) != 1)) {
            throw new IllegalArgumentException("NF4 nested block size " + nestedBlockSize + " is not a power of two");
        }
    }

    /** y += alpha * x over n elements. */
    public void axpy(ElementType t, DeviceBuffer y, DeviceBuffer x, float alpha, long n) {
        if (vectors(n, y, x)) {
            launchVectors("elementwise.cu", "axpy_vec_" + t.suffix(), n, y, x, alpha, n);
            return;
        }
        launchElements("elementwise.cu", "axpy_" + t.suffix(), n, y, x, alpha, n);
    }

    /** y (bf16) += alpha * x (float) over n elements. */
    public void axpyIntoBf16(DeviceBuffer y, DeviceBuffer x, float alpha, long n) {
        if (vectors(n, y, x)) {
            launchVectors("elementwise.cu", "axpy_vec_f32_to_bf16", n, y, x, alpha, n);
            return;
        }
        launchElements("elementwise.cu", "axpy_f32_to_bf16", n, y, x, alpha, n);
    }

    /** x *= alpha over n floats. */
    public void scale(DeviceBuffer x, float alpha, long n) {
        launchElements("elementwise.cu", "scale_f32", n, x, alpha, n);
    }

    /**
     * Inverted dropout over n elements of type t into floats, mask bits from the CPU backend's hash of (seed, index):
     * out = x / (1 - p) where kept, else 0.
     */
    public void dropout(ElementType t, DeviceBuffer out, DeviceBuffer x, long n, float p, long seed) {
        int threshold = (int) (p * (1 << 24));
        launchElements("elementwise.cu", "dropout_" + t.suffix(), n, out, x, n, (int) seed, (int) (seed >>> 32), threshold, 1f / (1f - p));
    }

    /** One warp per row, 8 warps a block, the grid capped and strided over the rest. */
    private void launchWarpRows(String entry, int rows, Object... args) {
        long blocks = Math.clamp(ceilDiv(rows, THREADS / 32), 1, (long) cuda.multiprocessors() * 16);
        cuda.launch(cuda.function("attention_gemm.cu", entry), (int) blocks, 1, 1, THREADS, 0, args);
    }

    private void launchRows(String file, String entry, int rows, int rowLength, Object... args) {
        int block = Math.clamp(Integer.highestOneBit(Math.max(1, rowLength / 4)), 32, 1024);
        cuda.launch(cuda.function(file, entry), rows, 1, 1, block, 0, args);
    }

    /** Whether the {@code *_vec} kernels can run over n elements of these buffers: n a multiple of 8, each buffer 16-byte aligned. */
    private static boolean vectors(long n, DeviceBuffer... buffers) {
        if (n % VEC != 0) return false;
        for (DeviceBuffer b : buffers) if (b.address() % VEC_ALIGN != 0) return false;
        return true;
    }

    /** Whether rows of {@code dim} fit the register-held {@code rmsnorm_*_vec} kernels (every row start then stays aligned). */
    private static boolean rowVectors(int dim, DeviceBuffer... buffers) {
        return dim % VEC == 0 && dim / VEC <= ROW_CHUNKS * 1024 && vectors(0, buffers);
    }

    /** One block per row, two chunks of 8 per thread where the block can hold them: 256 threads for a row of 4096. */
    private void launchRowVectors(String entry, int rows, int dim, Object... args) {
        int chunks = dim / VEC;
        int block = (int) Math.clamp(ceilDiv(ceilDiv(chunks, 2), 32) * 32, 32, 1024);
        cuda.launch(cuda.function("norm.cu", entry), rows, 1, 1, block, 0, args);
    }

    private void launchVectors(String file, String entry, long n, Object... args) {
        launchElements(file, entry, n / VEC, args);
    }

    private void launchElements(String file, String entry, long n, Object... args) {
        long blocks = Math.clamp(ceilDiv(n, THREADS), 1, (long) cuda.multiprocessors() * 16);
        cuda.launch(cuda.function(file, entry), (int) blocks, 1, 1, THREADS, 0, args);
    }

    /** One block per tile of 32 rows and head; {@code sharedFloats} of dynamic shared memory (tiles staged as float). */
    private void launchAttention(String entry, int rows, int heads, int batch, int sharedFloats, Object... args) {
        MemorySegment function = cuda.function("attention.cu", entry);
        int bytes = sharedFloats * Float.BYTES;
        if (bytes > DEFAULT_SHARED_BYTES) cuda.allowSharedMemory(function, bytes);
        cuda.launch(function, (int) ceilDiv(rows, ATTENTION_TILE), heads, batch, ATTENTION_THREADS, bytes, args);
    }

    private static void checkAttention(int heads, int kvHeads, int headDim) {
        if (kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException(heads + " attention heads are not a multiple of " + kvHeads + " key/value heads");
        }
        if (!HEAD_DIMS.contains(headDim)) {
            throw new IllegalArgumentException("head dimension " + headDim + " is not one the attention kernels are built for: " + HEAD_DIMS);
        }
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
