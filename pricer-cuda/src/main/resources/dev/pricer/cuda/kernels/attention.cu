// Causal self-attention with grouped-query heads, flash-style: the T x T score matrix is never stored.
// Queries q, out, dout, dq: rows b*S + i of [B*S, Hq*D]. Keys and values k, v, dk, dv: rows b*K + j of
// [B*K, Hkv*D], where K (key_stride) is S in training and a KV cache's capacity in generation. Query i sits at
// position past + i and sees keys j <= past + i inside its sequence's valid length (lengths[b]; null: all).
// lse and delta: float [B, Hq, S], the softmax statistics the backward pass needs.
// Each block takes a tile of 32 query rows (forward, dq) or 32 key rows (dk, dv) of one head and walks the
// other side in tiles of 32 staged through shared memory, so each key (or query) row is read from device
// memory once per tile rather than once per row. Within a tile a warp owns 4 rows: scores are computed one
// key (or query) per lane with an online softmax, and head dimensions are spread over lanes. The head
// dimension D is a template parameter (entry points name_f32_D for D in 16, 32, 64, 128, 256), so loops unroll
// and index arithmetic folds. Dot products read shared memory 16 bytes at a time, rows padded by 4 floats
// against bank conflicts; the 4 rows' probabilities go through shared memory as one float4 per key, read by
// broadcast. Blocks are 256 threads; the dynamic shared memory each kernel needs is given in Kernels.java.
#include "common.cuh"

#define TILE 32
#define WARPS 8
#define ROWS 4
#define CHUNKS ((D + 31) / 32)
#define P4 (D + 4)

// Keys visible to query i of sequence b.
__device__ __forceinline__ int visible(const int* lengths, int b, int past, int i, int key_stride) {
    int n = past + i + 1;
    int len = lengths ? lengths[b] : key_stride;
    return n < len ? n : len;
}

__device__ __forceinline__ float dot4(float4 a, float4 b) {
    return a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
}

// Stages rows [r0, r0 + TILE) of a strided matrix (row r at base + r * stride) into shared memory with the
// given pitch, as float, scaled; rows past the end become zeros.
template <typename T, int D>
__device__ __forceinline__ void stage(float* dst, int pitch, const T* base, long stride, int r0, int rows, float scale) {
    for (int idx = threadIdx.x; idx < TILE * D; idx += blockDim.x) {
        int r = idx / D, x = idx % D;
        dst[r * pitch + x] = r0 + r < rows ? to_float(base[(long) (r0 + r) * stride + x]) * scale : 0.f;
    }
}

template <typename T, int D>
__device__ void attention_fwd(T* out, float* lse, const T* q, const T* k, const T* v, const int* lengths,
                              int seq, int key_stride, int past, int hq, int hkv, float scale) {
    extern __shared__ float4 shared4[];
    float* ks = (float*) shared4;        // [TILE][P4], read one key per lane
    float* vs = ks + TILE * P4;          // [TILE][D]
    float* qs = vs + TILE * D;           // [TILE][D], read by broadcast
    float4* pbuf = (float4*) (qs + TILE * D);  // [WARPS][TILE]: the 4 rows' probabilities per key
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int h = blockIdx.y, b = blockIdx.z, i0 = blockIdx.x * TILE;
    int kvh = h / (hq / hkv);
    long qStride = (long) hq * D, kvStride = (long) hkv * D;
    const T* kb = k + (long) b * key_stride * kvStride + (long) kvh * D;
    const T* vb = v + (long) b * key_stride * kvStride + (long) kvh * D;
    stage<T, D>(qs, D, q + (long) b * seq * qStride + (long) h * D, qStride, i0, seq, scale);
    int n[ROWS], nWarp = 0;
    float m[ROWS], l[ROWS], o[ROWS][CHUNKS];
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        int i = i0 + warp + r * WARPS;
        n[r] = i < seq ? visible(lengths, b, past, i, key_stride) : 0;
        nWarp = max(nWarp, n[r]);
        m[r] = neg_inf();
        l[r] = 0.f;
#pragma unroll
        for (int c = 0; c < CHUNKS; c++) o[r][c] = 0.f;
    }
    int nTile = visible(lengths, b, past, min(i0 + TILE, seq) - 1, key_stride);
    for (int j0 = 0; j0 < nTile; j0 += TILE) {
        __syncthreads();
        stage<T, D>(ks, P4, kb, kvStride, j0, key_stride, 1.f);
        stage<T, D>(vs, D, vb, kvStride, j0, key_stride, 1.f);
        __syncthreads();
        if (j0 >= nWarp) continue;
        int j = j0 + lane;
        float s[ROWS] = {0.f, 0.f, 0.f, 0.f};
        const float4* kr = (const float4*) (ks + lane * P4);
#pragma unroll
        for (int x = 0; x < D / 4; x++) {
            float4 kk = kr[x];
#pragma unroll
            for (int r = 0; r < ROWS; r++) s[r] += dot4(((const float4*) (qs + (warp + r * WARPS) * D))[x], kk);
        }
        float p[ROWS];
#pragma unroll
        for (int r = 0; r < ROWS; r++) {
            p[r] = 0.f;
            if (j0 >= n[r]) continue;
            float sr = j < n[r] ? s[r] : neg_inf();
            float mNew = fmaxf(m[r], warp_max(sr));
            p[r] = j < n[r] ? expf(sr - mNew) : 0.f;
            float corr = expf(m[r] - mNew);
            l[r] = l[r] * corr + warp_sum(p[r]);
            m[r] = mNew;
#pragma unroll
            for (int c = 0; c < CHUNKS; c++) o[r][c] *= corr;
        }
        pbuf[warp * TILE + lane] = make_float4(p[0], p[1], p[2], p[3]);
        __syncwarp();
        int count = min(TILE, nWarp - j0);
        for (int jj = 0; jj < count; jj++) {
            float4 pj = pbuf[warp * TILE + jj];
            const float* vr = vs + jj * D;
#pragma unroll
            for (int c = 0; c < CHUNKS; c++) {
                int x = lane + 32 * c;
                if (x < D) {
                    float vv = vr[x];
                    o[0][c] += pj.x * vv;
                    o[1][c] += pj.y * vv;
                    o[2][c] += pj.z * vv;
                    o[3][c] += pj.w * vv;
                }
            }
        }
        __syncwarp();
    }
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        int i = i0 + warp + r * WARPS;
        if (i >= seq) continue;
        T* orow = out + (((long) b * seq + i) * hq + h) * D;
        float inv = n[r] > 0 ? 1.f / l[r] : 0.f;
#pragma unroll
        for (int c = 0; c < CHUNKS; c++) {
            int x = lane + 32 * c;
            if (x < D) orow[x] = from_float<T>(o[r][c] * inv);
        }
        if (lane == 0) lse[((long) b * hq + h) * seq + i] = n[r] > 0 ? m[r] + logf(l[r]) : 0.f;
    }
}

// dq_i = scale * sum_j p_ij (dp_ij - delta_i) k_j with dp_ij = dout_i . v_j and delta_i = sum_j p_ij dp_ij.
// delta (which equals dout_i . out_i, without needing out) takes a first pass over the key tiles; it is stored
// for the dk/dv kernel.
template <typename T, typename G, int D>
__device__ void attention_bwd_dq(G* dq, float* delta, const T* q, const T* k, const T* v, const G* dout,
                                 const float* lse, const int* lengths, int seq, int key_stride, int past, int hq,
                                 int hkv, float scale) {
    extern __shared__ float4 shared4[];
    float* ks = (float*) shared4;        // [TILE][P4]
    float* vs = ks + TILE * P4;          // [TILE][P4]
    float* qs = vs + TILE * P4;          // [TILE][D]
    float* dos = qs + TILE * D;          // [TILE][D]
    float4* dsbuf = (float4*) (dos + TILE * D);  // [WARPS][TILE]
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int h = blockIdx.y, b = blockIdx.z, i0 = blockIdx.x * TILE;
    int kvh = h / (hq / hkv);
    long qStride = (long) hq * D, kvStride = (long) hkv * D;
    const T* kb = k + (long) b * key_stride * kvStride + (long) kvh * D;
    const T* vb = v + (long) b * key_stride * kvStride + (long) kvh * D;
    stage<T, D>(qs, D, q + (long) b * seq * qStride + (long) h * D, qStride, i0, seq, scale);
    stage<G, D>(dos, D, dout + (long) b * seq * qStride + (long) h * D, qStride, i0, seq, 1.f);
    const float* lseRow = lse + ((long) b * hq + h) * seq;
    int n[ROWS], nWarp = 0;
    float li[ROWS], di[ROWS], acc[ROWS][CHUNKS];
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        int i = i0 + warp + r * WARPS;
        n[r] = i < seq ? visible(lengths, b, past, i, key_stride) : 0;
        nWarp = max(nWarp, n[r]);
        li[r] = i < seq ? lseRow[i] : 0.f;
        di[r] = 0.f;
#pragma unroll
        for (int c = 0; c < CHUNKS; c++) acc[r][c] = 0.f;
    }
    int nTile = visible(lengths, b, past, min(i0 + TILE, seq) - 1, key_stride);
    for (int pass = 0; pass < 2; pass++) {
        for (int j0 = 0; j0 < nTile; j0 += TILE) {
            __syncthreads();
            stage<T, D>(ks, P4, kb, kvStride, j0, key_stride, 1.f);
            stage<T, D>(vs, P4, vb, kvStride, j0, key_stride, 1.f);
            __syncthreads();
            if (j0 >= nWarp) continue;
            int j = j0 + lane;
            float s[ROWS] = {0.f, 0.f, 0.f, 0.f}, dp[ROWS] = {0.f, 0.f, 0.f, 0.f};
            const float4* kr = (const float4*) (ks + lane * P4);
            const float4* vr = (const float4*) (vs + lane * P4);
#pragma unroll
            for (int x = 0; x < D / 4; x++) {
                float4 kk = kr[x], vv = vr[x];
#pragma unroll
                for (int r = 0; r < ROWS; r++) {
                    int row = warp + r * WARPS;
                    s[r] += dot4(((const float4*) (qs + row * D))[x], kk);
                    dp[r] += dot4(((const float4*) (dos + row * D))[x], vv);
                }
            }
            float ds[ROWS];
#pragma unroll
            for (int r = 0; r < ROWS; r++) {
                float p = j < n[r] ? expf(s[r] - li[r]) : 0.f;
                if (pass == 0) di[r] += p * dp[r];
                ds[r] = p * (dp[r] - di[r]);
            }
            if (pass == 0) continue;
            dsbuf[warp * TILE + lane] = make_float4(ds[0], ds[1], ds[2], ds[3]);
            __syncwarp();
            int count = min(TILE, nWarp - j0);
            for (int jj = 0; jj < count; jj++) {
                float4 dsj = dsbuf[warp * TILE + jj];
                const float* krow = ks + jj * P4;
#pragma unroll
                for (int c = 0; c < CHUNKS; c++) {
                    int x = lane + 32 * c;
                    if (x < D) {
                        float kv = krow[x];
                        acc[0][c] += dsj.x * kv;
                        acc[1][c] += dsj.y * kv;
                        acc[2][c] += dsj.z * kv;
                        acc[3][c] += dsj.w * kv;
                    }
                }
            }
            __syncwarp();
        }
        if (pass == 0) {
#pragma unroll
            for (int r = 0; r < ROWS; r++) di[r] = warp_sum(di[r]);
        }
    }
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        int i = i0 + warp + r * WARPS;
        if (i >= seq) continue;
        if (lane == 0) delta[((long) b * hq + h) * seq + i] = di[r];
        G* row = dq + (((long) b * seq + i) * hq + h) * D;
#pragma unroll
        for (int c = 0; c < CHUNKS; c++) {
            int x = lane + 32 * c;
            if (x < D) row[x] = from_float<G>(acc[r][c] * scale);
        }
    }
}

// For a tile of 32 keys and one query head h: the head's share of dv_j (sum over the queries that see key j of
// p_ij dout_i) and of dk_j (scale * sum of ds_ij q_i), walking the query tiles. Shares go to float partials
// [B, K, Hq, D]; attention_reduce_kv then sums each group's heads into dk and dv, so no atomics are needed and
// there are Hq (not Hkv) blocks per key tile to spread over the GPU. Keys no query sees get zeros.
template <typename T, typename G, int D>
__device__ void attention_bwd_dkdv(float* dk_part, float* dv_part, const T* q, const T* k, const T* v, const G* dout,
                                   const float* lse, const float* delta, const int* lengths, int seq, int key_stride,
                                   int past, int hq, int hkv, float scale) {
    extern __shared__ float4 shared4[];
    __shared__ float lseTile[TILE], deltaTile[TILE];
    float* qs = (float*) shared4;        // [TILE][P4], read one query per lane
    float* dos = qs + TILE * P4;         // [TILE][P4]
    float* kst = dos + TILE * P4;        // [TILE][D], scaled, read by broadcast
    float* vst = kst + TILE * D;         // [TILE][D]
    float4* pbuf = (float4*) (vst + TILE * D);   // [WARPS][TILE]
    float4* dsbuf = pbuf + WARPS * TILE;         // [WARPS][TILE]
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int h = blockIdx.y, b = blockIdx.z, j0 = blockIdx.x * TILE;
    int kvh = h / (hq / hkv);
    int len = lengths ? lengths[b] : key_stride;
    long qStride = (long) hq * D, kvStride = (long) hkv * D;
    stage<T, D>(kst, D, k + (long) b * key_stride * kvStride + (long) kvh * D, kvStride, j0, key_stride, scale);
    stage<T, D>(vst, D, v + (long) b * key_stride * kvStride + (long) kvh * D, kvStride, j0, key_stride, 1.f);
    float dka[ROWS][CHUNKS], dva[ROWS][CHUNKS];
    bool live[ROWS];
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        int j = j0 + warp + r * WARPS;
        live[r] = j < len && j < key_stride;
#pragma unroll
        for (int c = 0; c < CHUNKS; c++) { dka[r][c] = 0.f; dva[r][c] = 0.f; }
    }
    int firstQuery = j0 - past > 0 ? j0 - past : 0;
    int qStart = firstQuery / TILE * TILE;
    if (j0 < len) {
        const T* qb = q + (long) b * seq * qStride + (long) h * D;
        const G* db = dout + (long) b * seq * qStride + (long) h * D;
        const float* lseRow = lse + ((long) b * hq + h) * seq;
        const float* deltaRow = delta + ((long) b * hq + h) * seq;
        for (int i0 = qStart; i0 < seq; i0 += TILE) {
            __syncthreads();
            stage<T, D>(qs, P4, qb, qStride, i0, seq, 1.f);
            stage<G, D>(dos, P4, db, qStride, i0, seq, 1.f);
            if (threadIdx.x < TILE) {
                int i = i0 + threadIdx.x;
                lseTile[threadIdx.x] = i < seq ? lseRow[i] : 0.f;
                deltaTile[threadIdx.x] = i < seq ? deltaRow[i] : 0.f;
            }
            __syncthreads();
            int i = i0 + lane;
            float s[ROWS] = {0.f, 0.f, 0.f, 0.f}, dp[ROWS] = {0.f, 0.f, 0.f, 0.f};
            const float4* qr = (const float4*) (qs + lane * P4);
            const float4* dr = (const float4*) (dos + lane * P4);
#pragma unroll
            for (int x = 0; x < D / 4; x++) {
                float4 qq = qr[x], dd = dr[x];
#pragma unroll
                for (int r = 0; r < ROWS; r++) {
                    int row = warp + r * WARPS;
                    s[r] += dot4(((const float4*) (kst + row * D))[x], qq);
                    dp[r] += dot4(((const float4*) (vst + row * D))[x], dd);
                }
            }
            float p[ROWS], ds[ROWS];
#pragma unroll
            for (int r = 0; r < ROWS; r++) {
                int j = j0 + warp + r * WARPS;
                bool sees = live[r] && i < seq && j <= past + i;
                p[r] = sees ? expf(s[r] - lseTile[lane]) : 0.f;
                ds[r] = p[r] * (dp[r] - deltaTile[lane]);
            }
            pbuf[warp * TILE + lane] = make_float4(p[0], p[1], p[2], p[3]);
            dsbuf[warp * TILE + lane] = make_float4(ds[0], ds[1], ds[2], ds[3]);
            __syncwarp();
            int count = min(TILE, seq - i0);
            for (int ii = 0; ii < count; ii++) {
                float4 pi = pbuf[warp * TILE + ii], dsi = dsbuf[warp * TILE + ii];
                const float* qrow = qs + ii * P4;
                const float* drow = dos + ii * P4;
#pragma unroll
                for (int c = 0; c < CHUNKS; c++) {
                    int x = lane + 32 * c;
                    if (x < D) {
                        float qv = qrow[x], gv = drow[x];
                        dva[0][c] += pi.x * gv;
                        dva[1][c] += pi.y * gv;
                        dva[2][c] += pi.z * gv;
                        dva[3][c] += pi.w * gv;
                        dka[0][c] += dsi.x * qv;
                        dka[1][c] += dsi.y * qv;
                        dka[2][c] += dsi.z * qv;
                        dka[3][c] += dsi.w * qv;
                    }
                }
            }
            __syncwarp();
        }
    }
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        int j = j0 + warp + r * WARPS;
        if (j >= key_stride) continue;
        long prow = ((long) b * key_stride + j) * hq + h;
#pragma unroll
        for (int c = 0; c < CHUNKS; c++) {
            int x = lane + 32 * c;
            if (x < D) {
                dk_part[prow * D + x] = dka[r][c] * scale;
                dv_part[prow * D + x] = dva[r][c];
            }
        }
    }
}

// dk, dv [rows, Hkv, D] = the sums of the partials [rows, Hq, D] over each KV head's group of query heads.
template <typename T>
__device__ void attention_reduce_kv(T* dk, T* dv, const float* dk_part, const float* dv_part, long rows, int hq,
                                    int hkv, int d) {
    int group = hq / hkv;
    long total = rows * hkv * d;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        int x = (int) (idx % d);
        long rk = idx / d;
        int kvh = (int) (rk % hkv);
        long row = rk / hkv;
        const float* pk = dk_part + (row * hq + (long) kvh * group) * d + x;
        const float* pv = dv_part + (row * hq + (long) kvh * group) * d + x;
        float sk = 0.f, sv = 0.f;
        for (int g = 0; g < group; g++) {
            sk += pk[(long) g * d];
            sv += pv[(long) g * d];
        }
        dk[idx] = from_float<T>(sk);
        dv[idx] = from_float<T>(sv);
    }
}
EXPORT2(attention_reduce_kv, (T* dk, T* dv, const float* dk_part, const float* dv_part, long rows, int hq, int hkv, int d),
        (dk, dv, dk_part, dv_part, rows, hq, hkv, d))

// Entry points attention_fwd_{f32,bf16}_{D} and attention_bwd_{dq,dkdv}_{f32,bf16,bf16_f32}_{D}: bf16_f32 takes
// bf16 q, k, v (activations kept in bf16) with float gradients.
#define ATTENTION_FWD(TYPE, SUFFIX, D) \
    extern "C" __global__ void attention_fwd_##SUFFIX##_##D(TYPE* out, float* lse, const TYPE* q, const TYPE* k, const TYPE* v, \
            const int* lengths, int seq, int key_stride, int past, int hq, int hkv, float scale) { \
        attention_fwd<TYPE, D>(out, lse, q, k, v, lengths, seq, key_stride, past, hq, hkv, scale); }
#define ATTENTION_BWD(TYPE, GRAD, SUFFIX, D) \
    extern "C" __global__ void attention_bwd_dq_##SUFFIX##_##D(GRAD* dq, float* delta, const TYPE* q, const TYPE* k, const TYPE* v, \
            const GRAD* dout, const float* lse, const int* lengths, int seq, int key_stride, int past, int hq, int hkv, float scale) { \
        attention_bwd_dq<TYPE, GRAD, D>(dq, delta, q, k, v, dout, lse, lengths, seq, key_stride, past, hq, hkv, scale); } \
    extern "C" __global__ void attention_bwd_dkdv_##SUFFIX##_##D(float* dk, float* dv, const TYPE* q, const TYPE* k, const TYPE* v, \
            const GRAD* dout, const float* lse, const float* delta, const int* lengths, int seq, int key_stride, int past, int hq, \
            int hkv, float scale) { \
        attention_bwd_dkdv<TYPE, GRAD, D>(dk, dv, q, k, v, dout, lse, delta, lengths, seq, key_stride, past, hq, hkv, scale); }

#define ATTENTION_HEAD_DIMS(M, ...) M(__VA_ARGS__, 16) M(__VA_ARGS__, 32) M(__VA_ARGS__, 64) M(__VA_ARGS__, 128) M(__VA_ARGS__, 256)

ATTENTION_HEAD_DIMS(ATTENTION_FWD, float, f32)
ATTENTION_HEAD_DIMS(ATTENTION_FWD, bf16, bf16)
ATTENTION_HEAD_DIMS(ATTENTION_BWD, float, float, f32)
ATTENTION_HEAD_DIMS(ATTENTION_BWD, bf16, bf16, bf16)
ATTENTION_HEAD_DIMS(ATTENTION_BWD, bf16, float, bf16_f32)
