// Causal GQA attention over whole sequences (no KV cache) on the tensor cores: bf16 operands, float
// accumulation, through mma.sync m16n8k16, flash-style (no T x T matrix in device memory, only each query row's
// log-sum-exp kept for backward). q, out, dout, dq: rows b*S + i of [B*S, Hq*D]; k, v, dk, dv: rows b*S + j of
// [B*S, Hkv*D]. Query i sees keys j <= i below lengths[b] (null: all); a row that sees none gets out 0, lse 0.
// lse and delta: float [B, Hq, S]. q, k, v and out are bf16; dout, dq, dk, dv are G (float, or bf16), the
// gradient rounded to bf16 on its way into the products as the batched-product path does.
//
// Blocks of 4 warps; each warp owns 16 rows (queries in the forward and dq kernels, keys in dk/dv) and the
// other side is walked in tiles staged through shared memory, bf16, rows padded by 8 elements so a fragment's
// 32-bit loads (8 rows x 4 words) fall on 32 different banks. Operands a product reads along its k dimension
// down a column (V in P.V, K in dS.K, Q and dout in dS^T.Q and P^T.dout) are staged transposed. Scores and
// probabilities stay in registers: the accumulator layout of S (m16n8) is, two n-tiles at a time, the A
// fragment layout of P (m16k16), so P and dS feed the next product without going through memory.
//
// attention_mma_fwd_D: block per (64 queries, head, sequence). attention_mma_bwd_dq_G_D: block per (64
// queries, head, sequence); a first pass over the keys gives delta_i = sum_j p_ij dp_ij (no forward output
// needed), a second dq = scale * dS.K; delta is stored for the next kernel. attention_mma_bwd_dkdv_G_D: block
// per (64 keys, KV head, sequence), summing over the query heads of the group and the query tiles at or after
// the keys in registers, so dk and dv are written once, deterministically, with no atomics.
#include "common.cuh"

#define WARPS 4
#define ROWS_PER_BLOCK (16 * WARPS)
#define KEY_TILE 64
#define DKDV_QUERY_TILE 32
#define LOG2E 1.4426950408889634f
#define LN2 0.6931471805599453f

__device__ __forceinline__ void mma_bf16(float* c, const unsigned* a, unsigned b0, unsigned b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats as a bf16 pair, lo in the low half (the lower column), rounded to nearest even.
__device__ __forceinline__ unsigned pack_bf16(float lo, float hi) {
    unsigned r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}

__device__ __forceinline__ unsigned ld32(const bf16* p) {
    return *(const unsigned*) p;
}

// The A fragment (16 x 16, row-major) at rows r0.., columns c0.. of a shared bf16 matrix with row pitch `pitch`.
__device__ __forceinline__ void load_a(unsigned* a, const bf16* m, int pitch, int r0, int c0, int g, int t) {
    const bf16* p = m + (r0 + g) * pitch + c0 + 2 * t;
    a[0] = ld32(p);
    a[1] = ld32(p + 8 * pitch);
    a[2] = ld32(p + 8);
    a[3] = ld32(p + 8 * pitch + 8);
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

// 8 consecutive elements as bf16, in one 16-byte word.
__device__ __forceinline__ uint4 load8(const bf16* p) {
    return *(const uint4*) p;
}
__device__ __forceinline__ uint4 load8(const float* p) {
    float4 a = *(const float4*) p, b = *((const float4*) p + 1);
    return make_uint4(pack_bf16(a.x, a.y), pack_bf16(a.z, a.w), pack_bf16(b.x, b.y), pack_bf16(b.z, b.w));
}

// dst[r][x] = src row r0 + r (row r at base + r * stride), for r < ROWS; rows at or past `valid` become zeros.
template <typename T, int D, int ROWS>
__device__ __forceinline__ void stage_rows(bf16* dst, const T* base, long stride, int r0, int valid) {
    constexpr int P = D + 8, C = D / 8;
    for (int idx = threadIdx.x; idx < ROWS * C; idx += blockDim.x) {
        int r = idx / C, x = (idx % C) * 8;
        uint4 w = r0 + r < valid ? load8(base + (long) (r0 + r) * stride + x) : make_uint4(0, 0, 0, 0);
        *(uint4*) (dst + r * P + x) = w;
    }
}

// dst[x][r] (pitch ROWS + 8) = src row r0 + r, element x: the transpose, zeros past `valid`. Consecutive
// threads take consecutive rows, so the 16-bit stores of a warp fill consecutive shared words.
template <typename T, int D, int ROWS>
__device__ __forceinline__ void stage_cols(bf16* dst, const T* base, long stride, int r0, int valid) {
    constexpr int P = ROWS + 8;
    for (int idx = threadIdx.x; idx < ROWS * (D / 8); idx += blockDim.x) {
        int r = idx % ROWS, x = (idx / ROWS) * 8;
        uint4 w = r0 + r < valid ? load8(base + (long) (r0 + r) * stride + x) : make_uint4(0, 0, 0, 0);
        unsigned words[4] = {w.x, w.y, w.z, w.w};
        unsigned short* d = (unsigned short*) dst + x * P + r;
#pragma unroll
        for (int e = 0; e < 4; e++) {
            d[(2 * e) * P] = (unsigned short) (words[e] & 0xffffu);
            d[(2 * e + 1) * P] = (unsigned short) (words[e] >> 16);
        }
    }
}

__device__ __forceinline__ void store2(bf16* p, float a, float b) {
    *(unsigned*) p = pack_bf16(a, b);
}
__device__ __forceinline__ void store2(float* p, float a, float b) {
    *(float2*) p = make_float2(a, b);
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
    constexpr int P = D + 8, TP = KEY_TILE + 8, NT = KEY_TILE / 8, DT = D / 8;
    extern __shared__ uint4 shared_words[];
    bf16* qs = (bf16*) shared_words;     // [64 queries][P]
    bf16* ks = qs + ROWS_PER_BLOCK * P;  // [64 keys][P]
    bf16* vt = ks + KEY_TILE * P;        // [D][TP]: V transposed
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int i0 = blockIdx.x * ROWS_PER_BLOCK, h = blockIdx.y, b = blockIdx.z, kvh = h / (hq / hkv);
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
    unsigned qa[D / 16][4];
#pragma unroll
    for (int x = 0; x < D / 16; x++) load_a(qa[x], qs, P, warp * 16, x * 16, g, t);
    for (int j0 = 0; j0 < keys; j0 += KEY_TILE) {
        __syncthreads();
        stage_rows<bf16, D, KEY_TILE>(ks, kb, kvStride, j0, keys);
        stage_cols<bf16, D, KEY_TILE>(vt, vb, kvStride, j0, keys);
        __syncthreads();
        if (j0 >= warpKeys) continue;
        float s[NT][4];
#pragma unroll
        for (int n = 0; n < NT; n++) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
#pragma unroll
        for (int x = 0; x < D / 16; x++) {
#pragma unroll
            for (int n = 0; n < NT; n++) {
                const bf16* kr = ks + (n * 8 + g) * P + x * 16 + 2 * t;
                mma_bf16(s[n], qa[x], ld32(kr), ld32(kr + 8));
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
            for (int d = 0; d < DT; d++) {
                const bf16* vr = vt + (d * 8 + g) * TP + x * 16 + 2 * t;
                mma_bf16(o[d], pa[x], ld32(vr), ld32(vr + 8));
            }
        }
    }
    l0 = quad_sum(l0);
    l1 = quad_sum(l1);
    float inv0 = l0 > 0.f ? 1.f / l0 : 0.f, inv1 = l1 > 0.f ? 1.f / l1 : 0.f;
    bf16* o0 = out + ((long) b * seq + row0) * qStride + (long) h * D + 2 * t;
    bf16* o1 = o0 + 8 * qStride;
#pragma unroll
    for (int d = 0; d < DT; d++) {
        if (row0 < seq) store2(o0 + d * 8, o[d][0] * inv0, o[d][1] * inv0);
        if (row1 < seq) store2(o1 + d * 8, o[d][2] * inv1, o[d][3] * inv1);
    }
    if (t == 0) {
        float* lr = lse + ((long) b * hq + h) * seq;
        if (row0 < seq) lr[row0] = l0 > 0.f ? (m0 + log2f(l0)) * LN2 : 0.f;
        if (row1 < seq) lr[row1] = l1 > 0.f ? (m1 + log2f(l1)) * LN2 : 0.f;
    }
}

template <typename G, int D>
__device__ void attention_mma_bwd_dq(G* dq, float* delta, const bf16* q, const bf16* k, const bf16* v, const G* dout,
                                     const float* lse, const int* lengths, int seq, int hq, int hkv, float scale) {
    constexpr int P = D + 8, TP = KEY_TILE + 8, NT = KEY_TILE / 8, DT = D / 8;
    extern __shared__ uint4 shared_words[];
    bf16* qs = (bf16*) shared_words;     // [64 queries][P]
    bf16* dos = qs + ROWS_PER_BLOCK * P; // [64 queries][P]
    bf16* ks = dos + ROWS_PER_BLOCK * P; // [64 keys][P]
    bf16* vs = ks + KEY_TILE * P;        // [64 keys][P]
    bf16* kt = vs + KEY_TILE * P;        // [D][TP]: K transposed
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int i0 = blockIdx.x * ROWS_PER_BLOCK, h = blockIdx.y, b = blockIdx.z, kvh = h / (hq / hkv);
    int len = valid_length(lengths, b, seq);
    long qStride = (long) hq * D, kvStride = (long) hkv * D;
    const bf16* kb = k + (long) b * seq * kvStride + (long) kvh * D;
    const bf16* vb = v + (long) b * seq * kvStride + (long) kvh * D;
    stage_rows<bf16, D, ROWS_PER_BLOCK>(qs, q + (long) b * seq * qStride + (long) h * D, qStride, i0, seq);
    stage_rows<G, D, ROWS_PER_BLOCK>(dos, dout + (long) b * seq * qStride + (long) h * D, qStride, i0, seq);
    int row0 = i0 + warp * 16 + g, row1 = row0 + 8;
    int n0 = min(row0 + 1, len), n1 = min(row1 + 1, len);
    int keys = min(i0 + ROWS_PER_BLOCK, len), warpKeys = min(i0 + warp * 16 + 16, len);
    float scaleLog2 = scale * LOG2E;
    const float* lseRow = lse + ((long) b * hq + h) * seq;
    float lse0 = row0 < seq ? lseRow[row0] * LOG2E : 0.f, lse1 = row1 < seq ? lseRow[row1] * LOG2E : 0.f;
    float delta0 = 0.f, delta1 = 0.f;
    float acc[DT][4];
#pragma unroll
    for (int d = 0; d < DT; d++) acc[d][0] = acc[d][1] = acc[d][2] = acc[d][3] = 0.f;
    for (int pass = 0; pass < 2; pass++) {
        for (int j0 = 0; j0 < keys; j0 += KEY_TILE) {
            __syncthreads();
            stage_rows<bf16, D, KEY_TILE>(ks, kb, kvStride, j0, keys);
            stage_rows<bf16, D, KEY_TILE>(vs, vb, kvStride, j0, keys);
            if (pass == 1) stage_cols<bf16, D, KEY_TILE>(kt, kb, kvStride, j0, keys);
            __syncthreads();
            if (j0 >= warpKeys) continue;
            float s[NT][4], dp[NT][4];
#pragma unroll
            for (int n = 0; n < NT; n++) {
                s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
                dp[n][0] = dp[n][1] = dp[n][2] = dp[n][3] = 0.f;
            }
#pragma unroll
            for (int x = 0; x < D / 16; x++) {
                unsigned qa[4], da[4];
                load_a(qa, qs, P, warp * 16, x * 16, g, t);
                load_a(da, dos, P, warp * 16, x * 16, g, t);
#pragma unroll
                for (int n = 0; n < NT; n++) {
                    const bf16* kr = ks + (n * 8 + g) * P + x * 16 + 2 * t;
                    const bf16* vr = vs + (n * 8 + g) * P + x * 16 + 2 * t;
                    mma_bf16(s[n], qa, ld32(kr), ld32(kr + 8));
                    mma_bf16(dp[n], da, ld32(vr), ld32(vr + 8));
                }
            }
            // s becomes p = exp(scale * q.k - lse) where the key is visible, else 0; dp becomes ds in pass 1.
#pragma unroll
            for (int n = 0; n < NT; n++) {
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    int j = j0 + n * 8 + 2 * t + e;
                    s[n][e] = j < n0 ? exp2f(s[n][e] * scaleLog2 - lse0) : 0.f;
                    s[n][2 + e] = j < n1 ? exp2f(s[n][2 + e] * scaleLog2 - lse1) : 0.f;
                    if (pass == 0) {
                        delta0 += s[n][e] * dp[n][e];
                        delta1 += s[n][2 + e] * dp[n][2 + e];
                    } else {
                        dp[n][e] = s[n][e] * (dp[n][e] - delta0);
                        dp[n][2 + e] = s[n][2 + e] * (dp[n][2 + e] - delta1);
                    }
                }
            }
            if (pass == 0) continue;
            unsigned dsa[KEY_TILE / 16][4];
            to_a<KEY_TILE / 16>(dsa, dp);
#pragma unroll
            for (int x = 0; x < KEY_TILE / 16; x++) {
#pragma unroll
                for (int d = 0; d < DT; d++) {
                    const bf16* kr = kt + (d * 8 + g) * TP + x * 16 + 2 * t;
                    mma_bf16(acc[d], dsa[x], ld32(kr), ld32(kr + 8));
                }
            }
        }
        if (pass == 0) {
            delta0 = quad_sum(delta0);
            delta1 = quad_sum(delta1);
        }
    }
    G* q0 = dq + ((long) b * seq + row0) * qStride + (long) h * D + 2 * t;
    G* q1 = q0 + 8 * qStride;
#pragma unroll
    for (int d = 0; d < DT; d++) {
        if (row0 < seq) store2(q0 + d * 8, acc[d][0] * scale, acc[d][1] * scale);
        if (row1 < seq) store2(q1 + d * 8, acc[d][2] * scale, acc[d][3] * scale);
    }
    if (t == 0) {
        float* dr = delta + ((long) b * hq + h) * seq;
        if (row0 < seq) dr[row0] = delta0;
        if (row1 < seq) dr[row1] = delta1;
    }
}

// Rows of the products here are keys (j) and columns queries (i): S^T = K.Q^T, dP^T = V.dout^T, then
// dv += P^T.dout and dk += dS^T.Q over query tiles of 32 (fewer registers than 64, with both accumulators live).
template <typename G, int D>
__device__ void attention_mma_bwd_dkdv(G* dk, G* dv, const bf16* q, const bf16* k, const bf16* v, const G* dout,
                                       const float* lse, const float* delta, const int* lengths, int seq, int hq, int hkv,
                                       float scale) {
    constexpr int QT = DKDV_QUERY_TILE, P = D + 8, TP = QT + 8, NT = QT / 8, DT = D / 8;
    extern __shared__ uint4 shared_words[];
    __shared__ float lseTile[QT], deltaTile[QT];
    bf16* ks = (bf16*) shared_words;     // [64 keys][P]
    bf16* vs = ks + KEY_TILE * P;        // [64 keys][P]
    bf16* qs = vs + KEY_TILE * P;        // [32 queries][P]
    bf16* dos = qs + QT * P;             // [32 queries][P]
    bf16* qt = dos + QT * P;             // [D][TP]: Q transposed
    bf16* dot = qt + D * TP;             // [D][TP]: dout transposed
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int j0 = blockIdx.x * KEY_TILE, kvh = blockIdx.y, b = blockIdx.z, group = hq / hkv;
    int len = valid_length(lengths, b, seq);
    long qStride = (long) hq * D, kvStride = (long) hkv * D;
    int key0 = j0 + warp * 16 + g, key1 = key0 + 8;
    float scaleLog2 = scale * LOG2E;
    float dka[DT][4], dva[DT][4];
#pragma unroll
    for (int d = 0; d < DT; d++) {
        dka[d][0] = dka[d][1] = dka[d][2] = dka[d][3] = 0.f;
        dva[d][0] = dva[d][1] = dva[d][2] = dva[d][3] = 0.f;
    }
    if (j0 < len) {
        stage_rows<bf16, D, KEY_TILE>(ks, k + (long) b * seq * kvStride + (long) kvh * D, kvStride, j0, len);
        stage_rows<bf16, D, KEY_TILE>(vs, v + (long) b * seq * kvStride + (long) kvh * D, kvStride, j0, len);
        bool warpLive = j0 + warp * 16 < len;
        for (int h = kvh * group; h < (kvh + 1) * group; h++) {
            const bf16* qb = q + (long) b * seq * qStride + (long) h * D;
            const G* db = dout + (long) b * seq * qStride + (long) h * D;
            const float* lseRow = lse + ((long) b * hq + h) * seq;
            const float* deltaRow = delta + ((long) b * hq + h) * seq;
            for (int i0 = j0; i0 < seq; i0 += QT) {
                __syncthreads();
                stage_rows<bf16, D, QT>(qs, qb, qStride, i0, seq);
                stage_rows<G, D, QT>(dos, db, qStride, i0, seq);
                stage_cols<bf16, D, QT>(qt, qb, qStride, i0, seq);
                stage_cols<G, D, QT>(dot, db, qStride, i0, seq);
                if (threadIdx.x < QT) {
                    int i = i0 + threadIdx.x;
                    lseTile[threadIdx.x] = i < seq ? lseRow[i] * LOG2E : 0.f;
                    deltaTile[threadIdx.x] = i < seq ? deltaRow[i] : 0.f;
                }
                __syncthreads();
                // Queries before the warp's first key see none of its keys.
                if (!warpLive || i0 + QT <= j0 + warp * 16) continue;
                float s[NT][4], dp[NT][4];
#pragma unroll
                for (int n = 0; n < NT; n++) {
                    s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
                    dp[n][0] = dp[n][1] = dp[n][2] = dp[n][3] = 0.f;
                }
#pragma unroll
                for (int x = 0; x < D / 16; x++) {
                    unsigned ka[4], va[4];
                    load_a(ka, ks, P, warp * 16, x * 16, g, t);
                    load_a(va, vs, P, warp * 16, x * 16, g, t);
#pragma unroll
                    for (int n = 0; n < NT; n++) {
                        const bf16* qr = qs + (n * 8 + g) * P + x * 16 + 2 * t;
                        const bf16* dr = dos + (n * 8 + g) * P + x * 16 + 2 * t;
                        mma_bf16(s[n], ka, ld32(qr), ld32(qr + 8));
                        mma_bf16(dp[n], va, ld32(dr), ld32(dr + 8));
                    }
                }
#pragma unroll
                for (int n = 0; n < NT; n++) {
#pragma unroll
                    for (int e = 0; e < 2; e++) {
                        int c = n * 8 + 2 * t + e, i = i0 + c;
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
                unsigned pa[QT / 16][4], dsa[QT / 16][4];
                to_a<QT / 16>(pa, s);
                to_a<QT / 16>(dsa, dp);
#pragma unroll
                for (int x = 0; x < QT / 16; x++) {
#pragma unroll
                    for (int d = 0; d < DT; d++) {
                        const bf16* dr = dot + (d * 8 + g) * TP + x * 16 + 2 * t;
                        const bf16* qr = qt + (d * 8 + g) * TP + x * 16 + 2 * t;
                        mma_bf16(dva[d], pa[x], ld32(dr), ld32(dr + 8));
                        mma_bf16(dka[d], dsa[x], ld32(qr), ld32(qr + 8));
                    }
                }
            }
        }
    }
    G* k0 = dk + ((long) b * seq + key0) * kvStride + (long) kvh * D + 2 * t;
    G* v0 = dv + ((long) b * seq + key0) * kvStride + (long) kvh * D + 2 * t;
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
    extern "C" __global__ void __launch_bounds__(32 * WARPS) attention_mma_fwd_##D(bf16* out, float* lse, const bf16* q, \
            const bf16* k, const bf16* v, const int* lengths, int seq, int hq, int hkv, float scale) { \
        attention_mma_fwd<D>(out, lse, q, k, v, lengths, seq, hq, hkv, scale); }
#define ATTENTION_MMA_BWD(G, SUFFIX, D) \
    extern "C" __global__ void __launch_bounds__(32 * WARPS) attention_mma_bwd_dq_##SUFFIX##_##D(G* dq, float* delta, \
            const bf16* q, const bf16* k, const bf16* v, const G* dout, const float* lse, const int* lengths, int seq, int hq, \
            int hkv, float scale) { \
        attention_mma_bwd_dq<G, D>(dq, delta, q, k, v, dout, lse, lengths, seq, hq, hkv, scale); } \
    extern "C" __global__ void __launch_bounds__(32 * WARPS) attention_mma_bwd_dkdv_##SUFFIX##_##D(G* dk, G* dv, \
            const bf16* q, const bf16* k, const bf16* v, const G* dout, const float* lse, const float* delta, const int* lengths, \
            int seq, int hq, int hkv, float scale) { \
        attention_mma_bwd_dkdv<G, D>(dk, dv, q, k, v, dout, lse, delta, lengths, seq, hq, hkv, scale); }

ATTENTION_MMA(64)
ATTENTION_MMA(128)
ATTENTION_MMA_BWD(float, f32, 64)
ATTENTION_MMA_BWD(float, f32, 128)
ATTENTION_MMA_BWD(bf16, bf16, 64)
ATTENTION_MMA_BWD(bf16, bf16, 128)
