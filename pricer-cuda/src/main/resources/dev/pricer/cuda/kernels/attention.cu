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

// Stages key tile j0 (pitch P4, read one key per lane) and its values (pitch vpitch) between barriers.
template <typename T, int D>
__device__ __forceinline__ void stage_kv(float* ks, float* vs, int vpitch, const T* kb, const T* vb, long kvStride, int j0,
                                         int key_stride) {
    __syncthreads();
    stage<T, D>(ks, P4, kb, kvStride, j0, key_stride, 1.f);
    stage<T, D>(vs, vpitch, vb, kvStride, j0, key_stride, 1.f);
    __syncthreads();
}

// n[r]: the keys visible to the warp's query row r of the tile at i0 (0 past the sequence's end); returns the
// largest, the keys the warp must walk.
__device__ __forceinline__ int visible_rows(int (&n)[ROWS], const int* lengths, int b, int past, int i0, int seq,
                                            int key_stride) {
    int warp = threadIdx.x >> 5, most = 0;
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        int i = i0 + warp + r * WARPS;
        n[r] = i < seq ? visible(lengths, b, past, i, key_stride) : 0;
        most = max(most, n[r]);
    }
    return most;
}

template <int D>
__device__ __forceinline__ void zero(float (&acc)[ROWS][CHUNKS]) {
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
#pragma unroll
        for (int c = 0; c < CHUNKS; c++) acc[r][c] = 0.f;
    }
}

// s[k][r] += (tile row warp + r * WARPS of a[k], read by broadcast) . (this lane's row b[k]) for the warp's rows:
// N products of the same rows in one walk over the head dimension.
template <int D, int N>
__device__ __forceinline__ void dot_rows(float (&s)[N][ROWS], const float* const (&a)[N], const float* const (&b)[N]) {
    int warp = threadIdx.x >> 5;
#pragma unroll
    for (int x = 0; x < D / 4; x++) {
        float4 bb[N];
#pragma unroll
        for (int k = 0; k < N; k++) bb[k] = ((const float4*) b[k])[x];
#pragma unroll
        for (int r = 0; r < ROWS; r++) {
#pragma unroll
            for (int k = 0; k < N; k++) s[k][r] += dot4(((const float4*) (a[k] + (warp + r * WARPS) * D))[x], bb[k]);
        }
    }
}

// acc[r] += w[r] * row over the head dimensions this lane holds (lane + 32 c), w's components being the rows.
template <int D>
__device__ __forceinline__ void add_scaled_row(float (&acc)[ROWS][CHUNKS], float4 w, const float* row) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int c = 0; c < CHUNKS; c++) {
        int x = lane + 32 * c;
        if (x < D) {
            float v = row[x];
            acc[0][c] += w.x * v;
            acc[1][c] += w.y * v;
            acc[2][c] += w.z * v;
            acc[3][c] += w.w * v;
        }
    }
}

// acc += sum over the tile's first count rows jj of w_jj * rows[jj], where lane jj holds w_jj (one weight per warp
// row): the weights go through the warp's slice of buf and are read back by broadcast.
template <int D>
__device__ __forceinline__ void add_tile(float (&acc)[ROWS][CHUNKS], float4* buf, const float (&w)[ROWS],
                                         const float* rows, int pitch, int count) {
    int lane = threadIdx.x & 31;
    buf[lane] = make_float4(w[0], w[1], w[2], w[3]);
    __syncwarp();
    for (int jj = 0; jj < count; jj++) add_scaled_row<D>(acc, buf[jj], rows + jj * pitch);
    __syncwarp();
}

// row[lane + 32 c] = acc[c] * factor over the head dimensions this lane holds.
template <typename T, int D>
__device__ __forceinline__ void store_row(T* row, const float (&acc)[CHUNKS], float factor) {
    int lane = threadIdx.x & 31;
#pragma unroll
    for (int c = 0; c < CHUNKS; c++) {
        int x = lane + 32 * c;
        if (x < D) row[x] = from_float<T>(acc[c] * factor);
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
    int n[ROWS];
    int nWarp = visible_rows(n, lengths, b, past, i0, seq, key_stride);
    float m[ROWS], l[ROWS], o[ROWS][CHUNKS];
    zero<D>(o);
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        m[r] = neg_inf();
        l[r] = 0.f;
    }
    int nTile = visible(lengths, b, past, min(i0 + TILE, seq) - 1, key_stride);
    for (int j0 = 0; j0 < nTile; j0 += TILE) {
        stage_kv<T, D>(ks, vs, D, kb, vb, kvStride, j0, key_stride);
        if (j0 >= nWarp) continue;
        int j = j0 + lane;
        float s[1][ROWS] = {};
        dot_rows<D>(s, {qs}, {ks + lane * P4});
        float p[ROWS];
#pragma unroll
        for (int r = 0; r < ROWS; r++) {
            p[r] = 0.f;
            if (j0 >= n[r]) continue;
            float sr = j < n[r] ? s[0][r] : neg_inf();
            float mNew = fmaxf(m[r], warp_max(sr));
            p[r] = j < n[r] ? expf(sr - mNew) : 0.f;
            float corr = expf(m[r] - mNew);
            l[r] = l[r] * corr + warp_sum(p[r]);
            m[r] = mNew;
#pragma unroll
            for (int c = 0; c < CHUNKS; c++) o[r][c] *= corr;
        }
        add_tile<D>(o, pbuf + warp * TILE, p, vs, D, min(TILE, nWarp - j0));
    }
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        int i = i0 + warp + r * WARPS;
        if (i >= seq) continue;
        store_row<T, D>(out + (((long) b * seq + i) * hq + h) * D, o[r], n[r] > 0 ? 1.f / l[r] : 0.f);
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
    int n[ROWS];
    int nWarp = visible_rows(n, lengths, b, past, i0, seq, key_stride);
    float li[ROWS], di[ROWS], acc[ROWS][CHUNKS];
    zero<D>(acc);
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        int i = i0 + warp + r * WARPS;
        li[r] = i < seq ? lseRow[i] : 0.f;
        di[r] = 0.f;
    }
    int nTile = visible(lengths, b, past, min(i0 + TILE, seq) - 1, key_stride);
    for (int pass = 0; pass < 2; pass++) {
        for (int j0 = 0; j0 < nTile; j0 += TILE) {
            stage_kv<T, D>(ks, vs, P4, kb, vb, kvStride, j0, key_stride);
            if (j0 >= nWarp) continue;
            int j = j0 + lane;
            float sdp[2][ROWS] = {};  // the scores s and dp = dout . v
            dot_rows<D>(sdp, {qs, dos}, {ks + lane * P4, vs + lane * P4});
            const float (&s)[ROWS] = sdp[0], (&dp)[ROWS] = sdp[1];
            float ds[ROWS];
#pragma unroll
            for (int r = 0; r < ROWS; r++) {
                float p = j < n[r] ? expf(s[r] - li[r]) : 0.f;
                if (pass == 0) di[r] += p * dp[r];
                ds[r] = p * (dp[r] - di[r]);
            }
            if (pass == 0) continue;
            add_tile<D>(acc, dsbuf + warp * TILE, ds, ks, P4, min(TILE, nWarp - j0));
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
        store_row<G, D>(dq + (((long) b * seq + i) * hq + h) * D, acc[r], scale);
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
    zero<D>(dka);
    zero<D>(dva);
    bool live[ROWS];
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        int j = j0 + warp + r * WARPS;
        live[r] = j < len && j < key_stride;
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
            float sdp[2][ROWS] = {};  // the scores s and dp = dout . v
            dot_rows<D>(sdp, {kst, vst}, {qs + lane * P4, dos + lane * P4});
            const float (&s)[ROWS] = sdp[0], (&dp)[ROWS] = sdp[1];
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
                add_scaled_row<D>(dva, pbuf[warp * TILE + ii], dos + ii * P4);
                add_scaled_row<D>(dka, dsbuf[warp * TILE + ii], qs + ii * P4);
            }
            __syncwarp();
        }
    }
#pragma unroll
    for (int r = 0; r < ROWS; r++) {
        int j = j0 + warp + r * WARPS;
        if (j >= key_stride) continue;
        long prow = ((long) b * key_stride + j) * hq + h;
        store_row<float, D>(dk_part + prow * D, dka[r], scale);
        store_row<float, D>(dv_part + prow * D, dva[r], 1.f);
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
