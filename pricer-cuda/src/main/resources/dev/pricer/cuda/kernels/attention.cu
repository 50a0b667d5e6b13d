// Causal self-attention with grouped-query heads, flash-style: the T x T score matrix is never stored.
// Queries q, out, dout, dq: rows b*S + i of [B*S, Hq*D]. Keys and values k, v, dk, dv: rows b*K + j of
// [B*K, Hkv*D], where K (key_stride) is S in training and a KV cache's capacity in generation. Query i sits at
// position past + i and sees keys j <= past + i inside its sequence's valid length (lengths[b]; null: all).
// lse and delta: float [B, Hq, S], the softmax statistics the backward pass needs.
// One warp per query row (forward, dq) or per key row (dk, dv); scores are computed one key (or query) per
// lane, 32 at a time, with an online softmax; head dimensions are spread over lanes (D <= 256).
// Blocks hold blockDim.x/32 warps; dynamic shared memory: 2 * D floats per warp.
#include "common.cuh"

#define MAX_CHUNKS 8

template <typename T>
__device__ __forceinline__ float dot_shared(const float* a, const T* b, int d) {
    float acc = 0.f;
    for (int i = 0; i < d; i++) acc += a[i] * to_float(b[i]);
    return acc;
}

// Keys visible to query i of sequence b.
__device__ __forceinline__ int visible(const int* lengths, int b, int past, int i, int key_stride) {
    int n = past + i + 1;
    int len = lengths ? lengths[b] : key_stride;
    return n < len ? n : len;
}

template <typename T>
__device__ void attention_fwd(T* out, float* lse, const T* q, const T* k, const T* v, const int* lengths,
                              int seq, int key_stride, int past, int hq, int hkv, int d, float scale) {
    extern __shared__ float shared[];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int i = blockIdx.x * (blockDim.x >> 5) + warp;
    int h = blockIdx.y, b = blockIdx.z;
    if (i >= seq) return;
    int kvh = h / (hq / hkv);
    int n = visible(lengths, b, past, i, key_stride);
    float* qs = shared + warp * 2 * d;
    long row = ((long) b * seq + i) * hq + h;
    for (int x = lane; x < d; x += 32) qs[x] = to_float(q[row * d + x]) * scale;
    __syncwarp();
    long kvStride = (long) hkv * d;
    const T* kb = k + (long) b * key_stride * kvStride + (long) kvh * d;
    const T* vb = v + (long) b * key_stride * kvStride + (long) kvh * d;
    float m = neg_inf(), l = 0.f, o[MAX_CHUNKS];
#pragma unroll
    for (int c = 0; c < MAX_CHUNKS; c++) o[c] = 0.f;
    for (int j0 = 0; j0 < n; j0 += 32) {
        int j = j0 + lane;
        float s = j < n ? dot_shared(qs, kb + j * kvStride, d) : neg_inf();
        float mNew = fmaxf(m, warp_max(s));
        float p = j < n ? expf(s - mNew) : 0.f;
        float corr = expf(m - mNew);
        l = l * corr + warp_sum(p);
        int count = min(32, n - j0);
#pragma unroll
        for (int c = 0; c < MAX_CHUNKS; c++) o[c] *= corr;
        for (int jj = 0; jj < count; jj++) {
            float pj = __shfl_sync(FULL_MASK, p, jj);
            const T* vr = vb + (j0 + jj) * kvStride;
#pragma unroll
            for (int c = 0; c < MAX_CHUNKS; c++) {
                int x = lane + 32 * c;
                if (x < d) o[c] += pj * to_float(vr[x]);
            }
        }
        m = mNew;
    }
    float inv = n > 0 ? 1.f / l : 0.f;
#pragma unroll
    for (int c = 0; c < MAX_CHUNKS; c++) {
        int x = lane + 32 * c;
        if (x < d) out[row * d + x] = from_float<T>(o[c] * inv);
    }
    if (lane == 0) lse[((long) b * hq + h) * seq + i] = n > 0 ? m + logf(l) : 0.f;
}
EXPORT2(attention_fwd, (T* out, float* lse, const T* q, const T* k, const T* v, const int* lengths, int seq, int key_stride, int past,
                        int hq, int hkv, int d, float scale),
        (out, lse, q, k, v, lengths, seq, key_stride, past, hq, hkv, d, scale))

// dq_i = scale * sum_j p_ij (dp_ij - delta_i) k_j with dp_ij = dout_i . v_j and delta_i = sum_j p_ij dp_ij,
// computed here in a first pass over the keys (it equals dout_i . out_i, without needing out), and stored
// for the dk/dv pass.
template <typename T>
__device__ void attention_bwd_dq(T* dq, float* delta, const T* q, const T* k, const T* v, const T* dout,
                                 const float* lse, const int* lengths, int seq, int key_stride, int past, int hq,
                                 int hkv, int d, float scale) {
    extern __shared__ float shared[];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int i = blockIdx.x * (blockDim.x >> 5) + warp;
    int h = blockIdx.y, b = blockIdx.z;
    if (i >= seq) return;
    int kvh = h / (hq / hkv);
    int n = visible(lengths, b, past, i, key_stride);
    float* qs = shared + warp * 2 * d;
    float* dos = qs + d;
    long row = ((long) b * seq + i) * hq + h;
    for (int x = lane; x < d; x += 32) {
        qs[x] = to_float(q[row * d + x]) * scale;
        dos[x] = to_float(dout[row * d + x]);
    }
    __syncwarp();
    long stat = ((long) b * hq + h) * seq + i;
    float li = lse[stat];
    long kvStride = (long) hkv * d;
    const T* kb = k + (long) b * key_stride * kvStride + (long) kvh * d;
    const T* vb = v + (long) b * key_stride * kvStride + (long) kvh * d;
    float di = 0.f;
    for (int j = lane; j < n; j += 32) {
        di += expf(dot_shared(qs, kb + j * kvStride, d) - li) * dot_shared(dos, vb + j * kvStride, d);
    }
    di = warp_sum(di);
    if (lane == 0) delta[stat] = di;
    float acc[MAX_CHUNKS];
#pragma unroll
    for (int c = 0; c < MAX_CHUNKS; c++) acc[c] = 0.f;
    for (int j0 = 0; j0 < n; j0 += 32) {
        int j = j0 + lane;
        float ds = 0.f;
        if (j < n) {
            float p = expf(dot_shared(qs, kb + j * kvStride, d) - li);
            ds = p * (dot_shared(dos, vb + j * kvStride, d) - di);
        }
        int count = min(32, n - j0);
        for (int jj = 0; jj < count; jj++) {
            float dsj = __shfl_sync(FULL_MASK, ds, jj);
            const T* kr = kb + (j0 + jj) * kvStride;
#pragma unroll
            for (int c = 0; c < MAX_CHUNKS; c++) {
                int x = lane + 32 * c;
                if (x < d) acc[c] += dsj * to_float(kr[x]);
            }
        }
    }
#pragma unroll
    for (int c = 0; c < MAX_CHUNKS; c++) {
        int x = lane + 32 * c;
        if (x < d) dq[row * d + x] = from_float<T>(acc[c] * scale);
    }
}
EXPORT2(attention_bwd_dq, (T* dq, float* delta, const T* q, const T* k, const T* v, const T* dout, const float* lse, const int* lengths,
                           int seq, int key_stride, int past, int hq, int hkv, int d, float scale),
        (dq, delta, q, k, v, dout, lse, lengths, seq, key_stride, past, hq, hkv, d, scale))

// dv_j = sum over the group's heads and the queries that see key j of p_ij dout_i; dk_j = scale * sum ds_ij q_i.
// Grid: (ceil(K / warps), Hkv, B). Each key row sums its own heads, so no atomics are needed; keys no query
// sees get zeros.
template <typename T>
__device__ void attention_bwd_dkdv(T* dk, T* dv, const T* q, const T* k, const T* v, const T* dout,
                                   const float* lse, const float* delta, const int* lengths, int seq, int key_stride,
                                   int past, int hq, int hkv, int d, float scale) {
    extern __shared__ float shared[];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int j = blockIdx.x * (blockDim.x >> 5) + warp;
    int kvh = blockIdx.y, b = blockIdx.z;
    if (j >= key_stride) return;
    int group = hq / hkv;
    int len = lengths ? lengths[b] : key_stride;
    float* ks = shared + warp * 2 * d;
    float* vs = ks + d;
    long krow = ((long) b * key_stride + j) * hkv + kvh;
    for (int x = lane; x < d; x += 32) {
        ks[x] = to_float(k[krow * d + x]) * scale;
        vs[x] = to_float(v[krow * d + x]);
    }
    __syncwarp();
    long qStride = (long) hq * d;
    float dka[MAX_CHUNKS], dva[MAX_CHUNKS];
#pragma unroll
    for (int c = 0; c < MAX_CHUNKS; c++) { dka[c] = 0.f; dva[c] = 0.f; }
    int first = j - past > 0 ? j - past : 0;
    if (j < len) {
        for (int g = 0; g < group; g++) {
            int h = kvh * group + g;
            const T* qb = q + (long) b * seq * qStride + (long) h * d;
            const T* db = dout + (long) b * seq * qStride + (long) h * d;
            const float* lseRow = lse + ((long) b * hq + h) * seq;
            const float* deltaRow = delta + ((long) b * hq + h) * seq;
            for (int i0 = first; i0 < seq; i0 += 32) {
                int i = i0 + lane;
                float p = 0.f, ds = 0.f;
                if (i < seq) {
                    p = expf(dot_shared(ks, qb + i * qStride, d) - lseRow[i]);
                    ds = p * (dot_shared(vs, db + i * qStride, d) - deltaRow[i]);
                }
                int count = min(32, seq - i0);
                for (int ii = 0; ii < count; ii++) {
                    float pi = __shfl_sync(FULL_MASK, p, ii);
                    float dsi = __shfl_sync(FULL_MASK, ds, ii);
                    const T* qr = qb + (i0 + ii) * qStride;
                    const T* dr = db + (i0 + ii) * qStride;
#pragma unroll
                    for (int c = 0; c < MAX_CHUNKS; c++) {
                        int x = lane + 32 * c;
                        if (x < d) {
                            dva[c] += pi * to_float(dr[x]);
                            dka[c] += dsi * to_float(qr[x]);
                        }
                    }
                }
            }
        }
    }
#pragma unroll
    for (int c = 0; c < MAX_CHUNKS; c++) {
        int x = lane + 32 * c;
        if (x < d) {
            dk[krow * d + x] = from_float<T>(dka[c] * scale);
            dv[krow * d + x] = from_float<T>(dva[c]);
        }
    }
}
EXPORT2(attention_bwd_dkdv, (T* dk, T* dv, const T* q, const T* k, const T* v, const T* dout, const float* lse, const float* delta,
                             const int* lengths, int seq, int key_stride, int past, int hq, int hkv, int d, float scale),
        (dk, dv, q, k, v, dout, lse, delta, lengths, seq, key_stride, past, hq, hkv, d, scale))
