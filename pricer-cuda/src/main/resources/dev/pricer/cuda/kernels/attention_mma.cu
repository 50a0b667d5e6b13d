// Causal GQA attention over whole sequences (no KV cache) on the tensor cores: bf16 operands, float
// accumulation, through mma.sync m16n8k16, flash-style (no T x T matrix in device memory, only each query row's
// log-sum-exp kept for backward). q, out, dout, dq: rows b*S + i of [B*S, Hq*D]; k, v, dk, dv: rows b*S + j of
// [B*S, Hkv*D]. Query i sees keys j <= i below lengths[b] (null: all); a row that sees none gets out 0, lse 0.
// lse and delta: float [B, Hq, S]. q, k, v and out are bf16; dout, dq, dk, dv are G (float, or bf16), the
// gradient rounded to bf16 on its way into the products as the batched-product path does.
//
// Blocks of 4 warps; each warp owns 16 rows (queries in the forward and dq kernels, keys in dk/dv) and the
// other side is walked in tiles staged through shared memory, bf16, row-major as in device memory, rows padded
// by 8 elements so the 8 rows an ldmatrix phase reads fall on 32 different banks. Fragments come from shared
// memory by ldmatrix, four 8x8 matrices at a time; operands a product reads down their columns (V in P.V, K in
// dS.K, Q and dout in dS^T.Q and P^T.dout) by ldmatrix.trans, so nothing is staged twice. Scores and
// probabilities stay in registers: the accumulator layout of S (m16n8) is, two n-tiles at a time, the A
// fragment layout of P (m16k16), so P and dS feed the next product without going through memory.
//
// attention_mma_fwd_D: block per (64 queries, head, sequence). attention_mma_bwd_dq_G_D: block per (64
// queries, head, sequence); as it stages its dout rows it takes delta_i = sum_j p_ij dp_ij = dout_i . out_i
// (FlashAttention-2's D) from the forward output out, stores it for the next kernel, then makes one pass over the
// keys for dq = scale * dS.K, dS = P o (dP - delta). attention_mma_bwd_dkdv_G_D: block per (32 keys, KV head,
// sequence), summing over the query heads of the group and the query tiles at or after the keys in registers, so
// dk and dv are written once, deterministically, with no atomics.
//
// Grids are (heads, sequences, tiles), tiles slowest: blocks start in launch order, so all blocks of one tile start
// before any of the next. The tile of rank z is the one with the most work first (the last query tile, which sees the
// most keys; the first key tile, which the most queries see), so the longest blocks start in the first wave and the
// short ones fill the last wave's gaps, rather than long blocks starting last.
#include "common.cuh"

#define WARPS 4
#define THREADS (32 * WARPS)
#define ROWS_PER_BLOCK (16 * WARPS)
#define KEY_TILE 64
#define DKDV_KEY_TILE 32
#define DKDV_QUERY_TILE 64
#define LOG2E 1.4426950408889634f
#define LN2 0.6931471805599453f

__device__ __forceinline__ void mma_bf16(float* c, const unsigned* a, unsigned b0, unsigned b1) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats as a bf16 pair, lo in the low half (the lower column), rounded to nearest even.
__device__ __forceinline__ unsigned pack_bf16(float lo, float hi) {
    unsigned r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

// The shared-memory byte address of p. Volatile, so it is recomputed where called (once per tile): each fragment's
// address is then that base plus a constant the compiler folds into the ldmatrix, rather than one register per
// fragment held live across the loop.
__device__ __forceinline__ unsigned shared_base(const bf16* p) {
    unsigned a;
    asm volatile("{ .reg .u64 s; cvta.to.shared.u64 s, %1; cvt.u32.u64 %0, s; }\n" : "=r"(a) : "l"(p));
    return a;
}

// Four 8x8 bf16 matrices from shared memory, lane L giving the address of row L % 8 of matrix L / 8; register i
// gets matrix i in fragment layout (lane l: row l / 4, columns 2 (l % 4) and 2 (l % 4) + 1), or its transpose.
__device__ __forceinline__ void ldsm4(unsigned* r, unsigned lane_row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(lane_row));
}
__device__ __forceinline__ void ldsm4_trans(unsigned* r, unsigned lane_row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(lane_row));
}

// Byte address of a lane's row of the 16x16 block at (0, 0) of the shared matrix at `base` (row pitch `pitch`)
// for ldsm4 with the four matrices taken down first: (0, 0), (8, 0), (0, 8), (8, 8). That is an A fragment
// (16 x 16, row-major); transposed, the B fragments (k16 x n8) of n-tiles 0 and 8 of a [k][n] matrix. The block at
// (r, c) is `at(pitch, r, c)` bytes further.
__device__ __forceinline__ unsigned down_first(unsigned base, int pitch, int lane) {
    return base + 2 * (((lane & 7) + (lane & 8)) * pitch + ((lane >> 4) << 3));
}
// The same with the matrices taken across first: (0, 0), (0, 8), (8, 0), (8, 8). Of an [n][k] matrix (a B operand
// stored column-major), the B fragments of n-tiles 0 and 8 at k = 0.
__device__ __forceinline__ unsigned across_first(unsigned base, int pitch, int lane) {
    return base + 2 * (((lane & 7) + ((lane >> 4) << 3)) * pitch + (lane & 8));
}
__device__ __forceinline__ unsigned at(int pitch, int r, int c) {
    return 2 * (r * pitch + c);
}

// The A fragments of a 16 x 16*N block held as N pairs of m16n8 accumulators: accumulator tiles 2n and 2n+1.
template <int N>
__device__ __forceinline__ void to_a(unsigned (*a)[4], const float (*c)[4]) {
#pragma unroll
    for (int n = 0; n < N; n++) {
        a[n][0] = pack_bf16(c[2 * n][0], c[2 * n][1]);
        a[n][1] = pack_bf16(c[2 * n][2], c[2 * n][3]);
        a[n][2] = pack_bf16(c[2 * n + 1][0], c[2 * n + 1][1]);
        a[n][3] = pack_bf16(c[2 * n + 1][2], c[2 * n + 1][3]);
    }
}

// The two products both backward kernels start from, 16 rows by NT * 8 columns of each: s = X.Y^T and dp = dX.dY^T,
// the rows from shared matrices read down first (xD, dxD at row `row`), the columns across first (yA, dyA at row
// `col`), both with pitch P over D columns. In dq the rows are queries (S, dP); in dk/dv keys (S^T, dP^T).
template <int D, int NT, int P>
__device__ __forceinline__ void scores_and_dp(float (*s)[4], float (*dp)[4], unsigned xD, unsigned dxD, unsigned yA, unsigned dyA,
                                              int row, int col) {
#pragma unroll
    for (int n = 0; n < NT; n++) {
        s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
        dp[n][0] = dp[n][1] = dp[n][2] = dp[n][3] = 0.f;
    }
#pragma unroll
    for (int x = 0; x < D / 16; x++) {
        unsigned xa[4], dxa[4];
        ldsm4(xa, xD + at(P, row, x * 16));
        ldsm4(dxa, dxD + at(P, row, x * 16));
#pragma unroll
        for (int n = 0; n < NT; n += 2) {
            unsigned yf[4], dyf[4];
            ldsm4(yf, yA + at(P, col + n * 8, x * 16));
            ldsm4(dyf, dyA + at(P, col + n * 8, x * 16));
            mma_bf16(s[n], xa, yf[0], yf[1]);
            mma_bf16(s[n + 1], xa, yf[2], yf[3]);
            mma_bf16(dp[n], dxa, dyf[0], dyf[1]);
            mma_bf16(dp[n + 1], dxa, dyf[2], dyf[3]);
        }
    }
}

// 8 consecutive elements as loaded (one 16-byte word of bf16, two of float); as_bf16 packs them into one word.
template <typename T> struct Run8;
template <> struct Run8<bf16> { uint4 w; };
template <> struct Run8<float> { float4 a, b; };
__device__ __forceinline__ void load8(Run8<bf16>& r, const bf16* p) {
    r.w = *(const uint4*) p;
}
__device__ __forceinline__ void load8(Run8<float>& r, const float* p) {
    r.a = *(const float4*) p;
    r.b = *((const float4*) p + 1);
}
__device__ __forceinline__ uint4 as_bf16(const Run8<bf16>& r) {
    return r.w;
}
__device__ __forceinline__ uint4 as_bf16(const Run8<float>& r) {
    return make_uint4(pack_bf16(r.a.x, r.a.y), pack_bf16(r.a.z, r.a.w), pack_bf16(r.b.x, r.b.y), pack_bf16(r.b.z, r.b.w));
}

// One thread's share of ROWS rows of D elements on their way into shared memory: word n is row idx / C, columns
// 8 (idx % C) on, idx = threadIdx.x + n * THREADS. load issues every load before anything uses one, so a thread has
// all its words in flight at once (a loop of load-then-store waits one global latency per word); store writes them
// as bf16 to dst [ROWS][D + 8]. Staging two matrices loads both before storing either, for the same reason.
template <typename T, int D, int ROWS>
struct Staged {
    static constexpr int C = D / 8, N = ROWS * C / THREADS;
    static_assert(ROWS * C % THREADS == 0, "every thread stages the same number of words");
    Run8<T> run[N];

    // Rows r0 + r (row r at base + r * stride); those at or past `valid` are zeros.
    __device__ __forceinline__ void load(const T* base, long stride, int r0, int valid) {
#pragma unroll
        for (int n = 0; n < N; n++) {
            int idx = threadIdx.x + n * THREADS, r = idx / C, x = idx % C * 8;
            if (r0 + r < valid) load8(run[n], base + (long) (r0 + r) * stride + x);
            else run[n] = Run8<T>{};
        }
    }

    __device__ __forceinline__ void store(bf16* dst) const {
#pragma unroll
        for (int n = 0; n < N; n++) {
            int idx = threadIdx.x + n * THREADS;
            *(uint4*) (dst + idx / C * (D + 8) + idx % C * 8) = as_bf16(run[n]);
        }
    }
};

// dst[r][x] = src row r0 + r (row r at base + r * stride), for r < ROWS; rows at or past `valid` become zeros.
// PART rows at a time, where registers are short.
template <typename T, int D, int ROWS, int PART = ROWS>
__device__ __forceinline__ void stage_rows(bf16* dst, const T* base, long stride, int r0, int valid) {
#pragma unroll
    for (int p = 0; p < ROWS; p += PART) {
        Staged<T, D, PART> rows;
        rows.load(base, stride, r0 + p, valid);
        rows.store(dst + p * (D + 8));
    }
}

// The dot product of two runs of 8 bf16, in float.
__device__ __forceinline__ float dot2(unsigned a, unsigned b) {
    return __uint_as_float(a << 16) * __uint_as_float(b << 16) + __uint_as_float(a & 0xffff0000u) * __uint_as_float(b & 0xffff0000u);
}
__device__ __forceinline__ float dot8(uint4 a, uint4 b) {
    return (dot2(a.x, b.x) + dot2(a.y, b.y)) + (dot2(a.z, b.z) + dot2(a.w, b.w));
}

// stage_rows of the block's 64 dout rows that also takes each row's delta = dout . out, with dout as staged (rounded
// to bf16, as dP sees it), into deltaTile[r] and, for rows below seq, deltaRow[i0 + r]. A row's D / 8 words are
// loaded by as many consecutive lanes of one warp, which sum their parts by shuffles in a fixed order.
template <typename G, int D>
__device__ __forceinline__ void stage_dout_delta(bf16* dst, float* deltaTile, float* deltaRow, const G* dout, const bf16* out,
                                                 long stride, int i0, int seq) {
    using Rows = Staged<G, D, ROWS_PER_BLOCK>;
    constexpr int C = Rows::C;
    static_assert(32 % C == 0, "a row's words within one warp");
    Rows d;
    Staged<bf16, D, ROWS_PER_BLOCK> o;
    d.load(dout, stride, i0, seq);
    o.load(out, stride, i0, seq);
    d.store(dst);
#pragma unroll
    for (int n = 0; n < Rows::N; n++) {
        int idx = threadIdx.x + n * THREADS, r = idx / C;
        float sum = dot8(as_bf16(d.run[n]), o.run[n].w);
#pragma unroll
        for (int m = C / 2; m > 0; m >>= 1) sum += __shfl_xor_sync(FULL_MASK, sum, m);
        if (idx % C == 0) {
            deltaTile[r] = sum;
            if (i0 + r < seq) deltaRow[i0 + r] = sum;
        }
    }
}

__device__ __forceinline__ void store2(bf16* p, float a, float b) {
    *(unsigned*) p = pack_bf16(a, b);
}
__device__ __forceinline__ void store2(float* p, float a, float b) {
    *(float2*) p = make_float2(a, b);
}

// A warp's 16 rows of an m16n8 accumulator tile row by row: the thread's pairs of rows row0 (at r0) and row0 + 8 (at
// r0 + down), each scaled by its own factor, stored where the row exists.
template <int DT, typename T>
__device__ __forceinline__ void store_rows(T* r0, long down, const float (*acc)[4], float s0, float s1, bool live0, bool live1) {
#pragma unroll
    for (int d = 0; d < DT; d++) {
        if (live0) store2(r0 + d * 8, acc[d][0] * s0, acc[d][1] * s0);
        if (live1) store2(r0 + down + d * 8, acc[d][2] * s1, acc[d][3] * s1);
    }
}

__device__ __forceinline__ int valid_length(const int* lengths, int b, int seq) {
    int len = lengths ? lengths[b] : seq;
    return len < 0 ? 0 : len < seq ? len : seq;
}

// Sum and max over the 4 lanes that share a row of an m16n8 fragment.
__device__ __forceinline__ float quad_sum(float v) {
    v += __shfl_xor_sync(FULL_MASK, v, 1);
    return v + __shfl_xor_sync(FULL_MASK, v, 2);
}
__device__ __forceinline__ float quad_max(float v) {
    v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, 1));
    return fmaxf(v, __shfl_xor_sync(FULL_MASK, v, 2));
}

template <int D>
__device__ void attention_mma_fwd(bf16* out, float* lse, const bf16* q, const bf16* k, const bf16* v, const int* lengths,
                                  int seq, int hq, int hkv, float scale) {
    constexpr int P = D + 8, NT = KEY_TILE / 8, DT = D / 8;
    extern __shared__ uint4 shared_words[];
    bf16* qs = (bf16*) shared_words;     // [64 queries][P]
    bf16* ks = qs + ROWS_PER_BLOCK * P;  // [64 keys][P]
    bf16* vs = ks + KEY_TILE * P;        // [64 keys][P]
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int i0 = (gridDim.z - 1 - blockIdx.z) * ROWS_PER_BLOCK, h = blockIdx.x, b = blockIdx.y, kvh = h / (hq / hkv);
    int len = valid_length(lengths, b, seq);
    long qStride = (long) hq * D, kvStride = (long) hkv * D;
    const bf16* kb = k + (long) b * seq * kvStride + (long) kvh * D;
    const bf16* vb = v + (long) b * seq * kvStride + (long) kvh * D;
    stage_rows<bf16, D, ROWS_PER_BLOCK>(qs, q + (long) b * seq * qStride + (long) h * D, qStride, i0, seq);
    int row0 = i0 + warp * 16 + g, row1 = row0 + 8;
    int n0 = min(row0 + 1, len), n1 = min(row1 + 1, len);
    int keys = min(i0 + ROWS_PER_BLOCK, len), warpKeys = min(i0 + warp * 16 + 16, len);
    float scaleLog2 = scale * LOG2E;
    float m0 = neg_inf(), m1 = neg_inf(), l0 = 0.f, l1 = 0.f;
    float o[DT][4];
#pragma unroll
    for (int d = 0; d < DT; d++) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.f;
    __syncthreads();
    for (int j0 = 0; j0 < keys; j0 += KEY_TILE) {
        __syncthreads();
        // Half a tile's rows at a time: whole tiles spill at the 168 registers of 3 blocks an SM.
        stage_rows<bf16, D, KEY_TILE, KEY_TILE / 2>(ks, kb, kvStride, j0, keys);
        stage_rows<bf16, D, KEY_TILE, KEY_TILE / 2>(vs, vb, kvStride, j0, keys);
        __syncthreads();
        if (j0 >= warpKeys) continue;
        unsigned kA = across_first(shared_base(ks), P, lane), vD = down_first(shared_base(vs), P, lane);
        float s[NT][4];
#pragma unroll
        for (int n = 0; n < NT; n++) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
        // Q's fragments again each tile: held across the loop they would take the registers staging needs.
        unsigned qD = down_first(shared_base(qs), P, lane);
#pragma unroll
        for (int x = 0; x < D / 16; x++) {
            unsigned qa[4];
            ldsm4(qa, qD + at(P, warp * 16, x * 16));
#pragma unroll
            for (int n = 0; n < NT; n += 2) {
                unsigned kf[4];
                ldsm4(kf, kA + at(P, n * 8, x * 16));
                mma_bf16(s[n], qa, kf[0], kf[1]);
                mma_bf16(s[n + 1], qa, kf[2], kf[3]);
            }
        }
        float mx0 = neg_inf(), mx1 = neg_inf();
#pragma unroll
        for (int n = 0; n < NT; n++) {
#pragma unroll
            for (int e = 0; e < 2; e++) {
                int j = j0 + n * 8 + 2 * t + e;
                s[n][e] = j < n0 ? s[n][e] * scaleLog2 : neg_inf();
                s[n][2 + e] = j < n1 ? s[n][2 + e] * scaleLog2 : neg_inf();
                mx0 = fmaxf(mx0, s[n][e]);
                mx1 = fmaxf(mx1, s[n][2 + e]);
            }
        }
        float new0 = fmaxf(m0, quad_max(mx0)), new1 = fmaxf(m1, quad_max(mx1));
        // A row that has seen no key yet keeps max -inf; subtracting 0 then leaves its probabilities exp2(-inf) = 0.
        float base0 = new0 == neg_inf() ? 0.f : new0, base1 = new1 == neg_inf() ? 0.f : new1;
        float c0 = exp2f(m0 - base0), c1 = exp2f(m1 - base1);
        m0 = new0;
        m1 = new1;
        l0 *= c0;
        l1 *= c1;
#pragma unroll
        for (int d = 0; d < DT; d++) {
            o[d][0] *= c0;
            o[d][1] *= c0;
            o[d][2] *= c1;
            o[d][3] *= c1;
        }
#pragma unroll
        for (int n = 0; n < NT; n++) {
            s[n][0] = exp2f(s[n][0] - base0);
            s[n][1] = exp2f(s[n][1] - base0);
            s[n][2] = exp2f(s[n][2] - base1);
            s[n][3] = exp2f(s[n][3] - base1);
            l0 += s[n][0] + s[n][1];
            l1 += s[n][2] + s[n][3];
        }
        unsigned pa[KEY_TILE / 16][4];
        to_a<KEY_TILE / 16>(pa, s);
#pragma unroll
        for (int x = 0; x < KEY_TILE / 16; x++) {
#pragma unroll
            for (int d = 0; d < DT; d += 2) {
                unsigned vf[4];
                ldsm4_trans(vf, vD + at(P, x * 16, d * 8));
                mma_bf16(o[d], pa[x], vf[0], vf[1]);
                mma_bf16(o[d + 1], pa[x], vf[2], vf[3]);
            }
        }
    }
    l0 = quad_sum(l0);
    l1 = quad_sum(l1);
    float inv0 = l0 > 0.f ? 1.f / l0 : 0.f, inv1 = l1 > 0.f ? 1.f / l1 : 0.f;
    store_rows<DT>(out + ((long) b * seq + row0) * qStride + (long) h * D + 2 * t, 8 * qStride, o, inv0, inv1, row0 < seq, row1 < seq);
    if (t == 0) {
        float* lr = lse + ((long) b * hq + h) * seq;
        if (row0 < seq) lr[row0] = l0 > 0.f ? (m0 + log2f(l0)) * LN2 : 0.f;
        if (row1 < seq) lr[row1] = l1 > 0.f ? (m1 + log2f(l1)) * LN2 : 0.f;
    }
}

template <typename G, int D>
__device__ void attention_mma_bwd_dq(G* dq, float* delta, const bf16* q, const bf16* k, const bf16* v, const bf16* out,
                                     const G* dout, const float* lse, const int* lengths, int seq, int hq, int hkv, float scale) {
    constexpr int P = D + 8, NT = KEY_TILE / 16, DT = D / 8;
    extern __shared__ uint4 shared_words[];
    __shared__ float deltaTile[ROWS_PER_BLOCK];
    bf16* qs = (bf16*) shared_words;     // [64 queries][P]
    bf16* dos = qs + ROWS_PER_BLOCK * P; // [64 queries][P]
    bf16* ks = dos + ROWS_PER_BLOCK * P; // [64 keys][P]
    bf16* vs = ks + KEY_TILE * P;        // [64 keys][P]
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int i0 = (gridDim.z - 1 - blockIdx.z) * ROWS_PER_BLOCK, h = blockIdx.x, b = blockIdx.y, kvh = h / (hq / hkv);
    int len = valid_length(lengths, b, seq);
    long qStride = (long) hq * D, kvStride = (long) hkv * D, qHead = (long) b * seq * qStride + (long) h * D;
    const bf16* kb = k + (long) b * seq * kvStride + (long) kvh * D;
    const bf16* vb = v + (long) b * seq * kvStride + (long) kvh * D;
    stage_rows<bf16, D, ROWS_PER_BLOCK>(qs, q + qHead, qStride, i0, seq);
    stage_dout_delta<G, D>(dos, deltaTile, delta + ((long) b * hq + h) * seq, dout + qHead, out + qHead, qStride, i0, seq);
    int row0 = i0 + warp * 16 + g, row1 = row0 + 8;
    int n0 = min(row0 + 1, len), n1 = min(row1 + 1, len);
    int keys = min(i0 + ROWS_PER_BLOCK, len), warpKeys = min(i0 + warp * 16 + 16, len);
    float scaleLog2 = scale * LOG2E;
    const float* lseRow = lse + ((long) b * hq + h) * seq;
    float lse0 = row0 < seq ? lseRow[row0] * LOG2E : 0.f, lse1 = row1 < seq ? lseRow[row1] * LOG2E : 0.f;
    float acc[DT][4];
#pragma unroll
    for (int d = 0; d < DT; d++) acc[d][0] = acc[d][1] = acc[d][2] = acc[d][3] = 0.f;
    __syncthreads();
    float delta0 = deltaTile[warp * 16 + g], delta1 = deltaTile[warp * 16 + g + 8];
    for (int j0 = 0; j0 < keys; j0 += KEY_TILE) {
        // Half a tile's rows at a time: all of K and V at once would take 201 registers, 2 blocks an SM.
        __syncthreads();
        stage_rows<bf16, D, KEY_TILE, KEY_TILE / 2>(ks, kb, kvStride, j0, keys);
        stage_rows<bf16, D, KEY_TILE, KEY_TILE / 2>(vs, vb, kvStride, j0, keys);
        __syncthreads();
        // Half a tile of keys at a time: S and dP of 32 keys leave registers for 3 blocks an SM (168 at D = 128 on
        // sm_90, none spilled; unrolled, ptxas schedules the halves into more and spills), and a warp on the
        // diagonal skips a half its queries do not reach.
#pragma unroll 1
        for (int half = 0; half < KEY_TILE; half += KEY_TILE / 2) {
            int jh = j0 + half;
            if (jh >= warpKeys) break;
            unsigned qD = down_first(shared_base(qs), P, lane), dD = down_first(shared_base(dos), P, lane);
            unsigned kA = across_first(shared_base(ks), P, lane), vA = across_first(shared_base(vs), P, lane);
            float s[NT][4], dp[NT][4];
            scores_and_dp<D, NT, P>(s, dp, qD, dD, kA, vA, warp * 16, half);
            // dp becomes ds = p (dp - delta), p = exp(scale * q.k - lse) where the key is visible, else 0.
#pragma unroll
            for (int n = 0; n < NT; n++) {
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    int j = jh + n * 8 + 2 * t + e;
                    float p0 = j < n0 ? exp2f(s[n][e] * scaleLog2 - lse0) : 0.f;
                    float p1 = j < n1 ? exp2f(s[n][2 + e] * scaleLog2 - lse1) : 0.f;
                    dp[n][e] = p0 * (dp[n][e] - delta0);
                    dp[n][2 + e] = p1 * (dp[n][2 + e] - delta1);
                }
            }
            unsigned dsa[NT / 2][4];
            to_a<NT / 2>(dsa, dp);
            unsigned kD = down_first(shared_base(ks), P, lane);
#pragma unroll
            for (int x = 0; x < NT / 2; x++) {
#pragma unroll
                for (int d = 0; d < DT; d += 2) {
                    unsigned kf[4];
                    ldsm4_trans(kf, kD + at(P, half + x * 16, d * 8));
                    mma_bf16(acc[d], dsa[x], kf[0], kf[1]);
                    mma_bf16(acc[d + 1], dsa[x], kf[2], kf[3]);
                }
            }
        }
    }
    store_rows<DT>(dq + ((long) b * seq + row0) * qStride + (long) h * D + 2 * t, 8 * qStride, acc, scale, scale, row0 < seq, row1 < seq);
}

// Rows of the products here are keys (j) and columns queries (i): S^T = K.Q^T, dP^T = V.dout^T, then
// dv += P^T.dout and dk += dS^T.Q over query tiles of 64. The two warps of a pair own the same 16 keys: for S^T and
// dP^T each takes half the tile's queries, then they swap P^T and dS^T (as A fragments, through shared memory) and
// each takes half of D for dv and dk. So a thread holds 8 x D / 16 accumulators, not 16 x D / 16 (254 registers at
// D = 128, 2 blocks an SM, where it is now 168 and 3), and a block covers 32 keys, twice the blocks over the SMs.
template <typename G, int D>
__device__ void attention_mma_bwd_dkdv(G* dk, G* dv, const bf16* q, const bf16* k, const bf16* v, const G* dout,
                                       const float* lse, const float* delta, const int* lengths, int seq, int hq, int hkv,
                                       float scale) {
    constexpr int QT = DKDV_QUERY_TILE, KT = DKDV_KEY_TILE, P = D + 8, DT = D / 16, KF = QT / 16;
    extern __shared__ uint4 shared_words[];
    __shared__ float lseTile[QT], deltaTile[QT];
    // Each warp's P^T and dS^T fragments of its half of the queries: [warp][P^T, dS^T][k-block][lane].
    __shared__ uint4 swap[WARPS][2][KF / 2][32];
    bf16* ks = (bf16*) shared_words;     // [32 keys][P]
    bf16* vs = ks + KT * P;              // [32 keys][P]
    bf16* qs = vs + KT * P;              // [64 queries][P]
    bf16* dos = qs + QT * P;             // [64 queries][P]
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int pair = warp >> 1, half = warp & 1, dcol = half * (D / 2);
    int j0 = blockIdx.z * KT, kvh = blockIdx.x, b = blockIdx.y, group = hq / hkv;
    int len = valid_length(lengths, b, seq);
    long qStride = (long) hq * D, kvStride = (long) hkv * D;
    int key0 = j0 + pair * 16 + g, key1 = key0 + 8;
    float scaleLog2 = scale * LOG2E;
    float dka[DT][4], dva[DT][4];
#pragma unroll
    for (int d = 0; d < DT; d++) {
        dka[d][0] = dka[d][1] = dka[d][2] = dka[d][3] = 0.f;
        dva[d][0] = dva[d][1] = dva[d][2] = dva[d][3] = 0.f;
    }
    if (j0 < len) {
        stage_rows<bf16, D, KT>(ks, k + (long) b * seq * kvStride + (long) kvh * D, kvStride, j0, len);
        stage_rows<bf16, D, KT>(vs, v + (long) b * seq * kvStride + (long) kvh * D, kvStride, j0, len);
        for (int h = kvh * group; h < (kvh + 1) * group; h++) {
            const bf16* qb = q + (long) b * seq * qStride + (long) h * D;
            const G* db = dout + (long) b * seq * qStride + (long) h * D;
            const float* lseRow = lse + ((long) b * hq + h) * seq;
            const float* deltaRow = delta + ((long) b * hq + h) * seq;
            // The tile's first query is its first key, so every pair's keys meet some of its queries.
            for (int i0 = j0; i0 < seq; i0 += QT) {
                int query = i0 + threadIdx.x;
                bool stats = threadIdx.x < QT && query < seq;
                float l = stats ? lseRow[query] * LOG2E : 0.f, dl = stats ? deltaRow[query] : 0.f;
                __syncthreads();
                // dout's rows half at a time: all 64 in float would take the registers the accumulators need.
                stage_rows<bf16, D, QT>(qs, qb, qStride, i0, seq);
                stage_rows<G, D, QT, QT / 2>(dos, db, qStride, i0, seq);
                if (threadIdx.x < QT) {
                    lseTile[threadIdx.x] = l;
                    deltaTile[threadIdx.x] = dl;
                }
                __syncthreads();
                // 16 queries at a time: S^T and dP^T of all 32 of the warp's take registers for 2 blocks an SM, not 3.
#pragma unroll 1
                for (int x = 0; x < KF / 2; x++) {
                    int c0 = half * (QT / 2) + x * 16;
                    unsigned kD = down_first(shared_base(ks), P, lane), vD = down_first(shared_base(vs), P, lane);
                    unsigned qA = across_first(shared_base(qs), P, lane), dA = across_first(shared_base(dos), P, lane);
                    float s[2][4], dp[2][4];
                    scores_and_dp<D, 2, P>(s, dp, kD, vD, qA, dA, pair * 16, c0);
#pragma unroll
                    for (int n = 0; n < 2; n++) {
#pragma unroll
                        for (int e = 0; e < 2; e++) {
                            int c = c0 + n * 8 + 2 * t + e, i = i0 + c;
                            float l = lseTile[c], dl = deltaTile[c];
                            bool sees = i < seq;
                            float p0 = sees && key0 <= i && key0 < len ? exp2f(s[n][e] * scaleLog2 - l) : 0.f;
                            float p1 = sees && key1 <= i && key1 < len ? exp2f(s[n][2 + e] * scaleLog2 - l) : 0.f;
                            s[n][e] = p0;
                            s[n][2 + e] = p1;
                            dp[n][e] = p0 * (dp[n][e] - dl);
                            dp[n][2 + e] = p1 * (dp[n][2 + e] - dl);
                        }
                    }
                    unsigned pa[1][4], dsa[1][4];
                    to_a<1>(pa, s);
                    to_a<1>(dsa, dp);
                    swap[warp][0][x][lane] = make_uint4(pa[0][0], pa[0][1], pa[0][2], pa[0][3]);
                    swap[warp][1][x][lane] = make_uint4(dsa[0][0], dsa[0][1], dsa[0][2], dsa[0][3]);
                }
                // The next write to swap follows the next tile's first barrier, after both warps have read it.
                __syncthreads();
                unsigned qD = down_first(shared_base(qs + dcol), P, lane), dD = down_first(shared_base(dos + dcol), P, lane);
#pragma unroll
                for (int x = 0; x < KF; x++) {
                    // Query k-block x is k-block x % (KF / 2) of the pair's warp x / (KF / 2).
                    uint4 pw = swap[2 * pair + x / (KF / 2)][0][x % (KF / 2)][lane];
                    uint4 dw = swap[2 * pair + x / (KF / 2)][1][x % (KF / 2)][lane];
                    unsigned px[4] = {pw.x, pw.y, pw.z, pw.w}, dsx[4] = {dw.x, dw.y, dw.z, dw.w};
#pragma unroll
                    for (int d = 0; d < DT; d += 2) {
                        unsigned df[4], qf[4];
                        ldsm4_trans(df, dD + at(P, x * 16, d * 8));
                        ldsm4_trans(qf, qD + at(P, x * 16, d * 8));
                        mma_bf16(dva[d], px, df[0], df[1]);
                        mma_bf16(dva[d + 1], px, df[2], df[3]);
                        mma_bf16(dka[d], dsx, qf[0], qf[1]);
                        mma_bf16(dka[d + 1], dsx, qf[2], qf[3]);
                    }
                }
            }
        }
    }
    G* k0 = dk + ((long) b * seq + key0) * kvStride + (long) kvh * D + dcol + 2 * t;
    G* v0 = dv + ((long) b * seq + key0) * kvStride + (long) kvh * D + dcol + 2 * t;
    long down = 8 * kvStride;
#pragma unroll
    for (int d = 0; d < DT; d++) {
        if (key0 < seq) {
            store2(k0 + d * 8, dka[d][0] * scale, dka[d][1] * scale);
            store2(v0 + d * 8, dva[d][0], dva[d][1]);
        }
        if (key1 < seq) {
            store2(k0 + down + d * 8, dka[d][2] * scale, dka[d][3] * scale);
            store2(v0 + down + d * 8, dva[d][2], dva[d][3]);
        }
    }
}

#define ATTENTION_MMA(D) \
    extern "C" __global__ void __launch_bounds__(32 * WARPS, 3) attention_mma_fwd_##D(bf16* out, float* lse, const bf16* q, \
            const bf16* k, const bf16* v, const int* lengths, int seq, int hq, int hkv, float scale) { \
        attention_mma_fwd<D>(out, lse, q, k, v, lengths, seq, hq, hkv, scale); }
#define ATTENTION_MMA_BWD(G, SUFFIX, D) \
    extern "C" __global__ void __launch_bounds__(32 * WARPS) attention_mma_bwd_dq_##SUFFIX##_##D(G* dq, float* delta, \
            const bf16* q, const bf16* k, const bf16* v, const bf16* out, const G* dout, const float* lse, const int* lengths, \
            int seq, int hq, int hkv, float scale) { \
        attention_mma_bwd_dq<G, D>(dq, delta, q, k, v, out, dout, lse, lengths, seq, hq, hkv, scale); } \
    extern "C" __global__ void __launch_bounds__(32 * WARPS, 3) attention_mma_bwd_dkdv_##SUFFIX##_##D(G* dk, G* dv, \
            const bf16* q, const bf16* k, const bf16* v, const G* dout, const float* lse, const float* delta, const int* lengths, \
            int seq, int hq, int hkv, float scale) { \
        attention_mma_bwd_dkdv<G, D>(dk, dv, q, k, v, dout, lse, delta, lengths, seq, hq, hkv, scale); }

ATTENTION_MMA(64)
ATTENTION_MMA(128)
ATTENTION_MMA_BWD(float, f32, 64)
ATTENTION_MMA_BWD(float, f32, 128)
ATTENTION_MMA_BWD(bf16, bf16, 64)
ATTENTION_MMA_BWD(bf16, bf16, 128)
