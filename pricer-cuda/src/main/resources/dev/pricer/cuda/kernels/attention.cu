// Causal self-attention with grouped-query heads, flash-style: the T x T score matrix is never stored.
// q, out, dout, dq: [B, S, Hq, D]; k, v, dk, dv: [B, S, Hkv, D]; lse, delta: [B, Hq, S] in float.
// One warp per query row (forward, dq) or per key row (dk, dv); scores are computed one key (or query)
// per lane, 32 at a time, with an online softmax; head dimensions are spread over lanes (D <= 256).
// Blocks hold blockDim.x/32 warps; dynamic shared memory: 2 * D floats per warp.
#include "common.cuh"

#define MAX_CHUNKS 8

template <typename T>
__device__ __forceinline__ float dot_shared(const float* a, const T* b, int d) {
    float acc = 0.f;
    for (int i = 0; i < d; i++) acc += a[i] * to_float(b[i]);
    return acc;
}

template <typename T>
__device__ void attention_fwd(T* out, float* lse, const T* q, const T* k, const T* v,
                              int batch, int seq, int hq, int hkv, int d, float scale) {
    extern __shared__ float shared[];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int i = blockIdx.x * (blockDim.x >> 5) + warp;
    int h = blockIdx.y, b = blockIdx.z;
    if (i >= seq) return;
    int kvh = h / (hq / hkv);
    float* qs = shared + warp * 2 * d;
    const T* qrow = q + (((long) b * seq + i) * hq + h) * d;
    for (int x = lane; x < d; x += 32) qs[x] = to_float(qrow[x]) * scale;
    __syncwarp();
    long kvStride = (long) hkv * d;
    const T* kb = k + (long) b * seq * kvStride + (long) kvh * d;
    const T* vb = v + (long) b * seq * kvStride + (long) kvh * d;
    float m = neg_inf(), l = 0.f, o[MAX_CHUNKS];
#pragma unroll
    for (int c = 0; c < MAX_CHUNKS; c++) o[c] = 0.f;
    for (int j0 = 0; j0 <= i; j0 += 32) {
        int j = j0 + lane;
        float s = j <= i ? dot_shared(qs, kb + j * kvStride, d) : neg_inf();
        float mNew = fmaxf(m, warp_max(s));
        float p = j <= i ? expf(s - mNew) : 0.f;
        float corr = expf(m - mNew);
        l = l * corr + warp_sum(p);
        int count = min(32, i - j0 + 1);
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
    T* orow = out + (((long) b * seq + i) * hq + h) * d;
    float inv = 1.f / l;
#pragma unroll
    for (int c = 0; c < MAX_CHUNKS; c++) {
        int x = lane + 32 * c;
        if (x < d) orow[x] = from_float<T>(o[c] * inv);
    }
    if (lane == 0) lse[((long) b * hq + h) * seq + i] = m + logf(l);
}
EXPORT2(attention_fwd, (T* out, float* lse, const T* q, const T* k, const T* v, int batch, int seq, int hq, int hkv, int d, float scale),
        (out, lse, q, k, v, batch, seq, hq, hkv, d, scale))

// dq_i = scale * sum_j p_ij (dp_ij - delta_i) k_j, with delta_i = dout_i . out_i (stored for the dk/dv pass).
template <typename T>
__device__ void attention_bwd_dq(T* dq, float* delta, const T* q, const T* k, const T* v, const T* out,
                                 const T* dout, const float* lse, int batch, int seq, int hq, int hkv, int d,
                                 float scale) {
    extern __shared__ float shared[];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int i = blockIdx.x * (blockDim.x >> 5) + warp;
    int h = blockIdx.y, b = blockIdx.z;
    if (i >= seq) return;
    int kvh = h / (hq / hkv);
    float* qs = shared + warp * 2 * d;
    float* dos = qs + d;
    long row = ((long) b * seq + i) * hq + h;
    float di = 0.f;
    for (int x = lane; x < d; x += 32) {
        qs[x] = to_float(q[row * d + x]) * scale;
        float g = to_float(dout[row * d + x]);
        dos[x] = g;
        di += g * to_float(out[row * d + x]);
    }
    di = warp_sum(di);
    __syncwarp();
    long stat = ((long) b * hq + h) * seq + i;
    if (lane == 0) delta[stat] = di;
    float li = lse[stat];
    long kvStride = (long) hkv * d;
    const T* kb = k + (long) b * seq * kvStride + (long) kvh * d;
    const T* vb = v + (long) b * seq * kvStride + (long) kvh * d;
    float acc[MAX_CHUNKS];
#pragma unroll
    for (int c = 0; c < MAX_CHUNKS; c++) acc[c] = 0.f;
    for (int j0 = 0; j0 <= i; j0 += 32) {
        int j = j0 + lane;
        float ds = 0.f;
        if (j <= i) {
            float p = expf(dot_shared(qs, kb + j * kvStride, d) - li);
            ds = p * (dot_shared(dos, vb + j * kvStride, d) - di);
        }
        int count = min(32, i - j0 + 1);
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
EXPORT2(attention_bwd_dq, (T* dq, float* delta, const T* q, const T* k, const T* v, const T* out, const T* dout, const float* lse,
                           int batch, int seq, int hq, int hkv, int d, float scale),
        (dq, delta, q, k, v, out, dout, lse, batch, seq, hq, hkv, d, scale))

// dv_j = sum over the group's heads and i >= j of p_ij dout_i; dk_j = scale * sum of ds_ij q_i.
// Grid: (ceil(S / warps), Hkv, B). Each key row sums its own heads, so no atomics are needed.
template <typename T>
__device__ void attention_bwd_dkdv(T* dk, T* dv, const T* q, const T* k, const T* v, const T* dout,
                                   const float* lse, const float* delta, int batch, int seq, int hq, int hkv,
                                   int d, float scale) {
    extern __shared__ float shared[];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int j = blockIdx.x * (blockDim.x >> 5) + warp;
    int kvh = blockIdx.y, b = blockIdx.z;
    if (j >= seq) return;
    int group = hq / hkv;
    float* ks = shared + warp * 2 * d;
    float* vs = ks + d;
    long krow = ((long) b * seq + j) * hkv + kvh;
    for (int x = lane; x < d; x += 32) {
        ks[x] = to_float(k[krow * d + x]) * scale;
        vs[x] = to_float(v[krow * d + x]);
    }
    __syncwarp();
    long qStride = (long) hq * d;
    float dka[MAX_CHUNKS], dva[MAX_CHUNKS];
#pragma unroll
    for (int c = 0; c < MAX_CHUNKS; c++) { dka[c] = 0.f; dva[c] = 0.f; }
    for (int g = 0; g < group; g++) {
        int h = kvh * group + g;
        const T* qb = q + (long) b * seq * qStride + (long) h * d;
        const T* db = dout + (long) b * seq * qStride + (long) h * d;
        const float* lseRow = lse + ((long) b * hq + h) * seq;
        const float* deltaRow = delta + ((long) b * hq + h) * seq;
        for (int i0 = j; i0 < seq; i0 += 32) {
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
                             int batch, int seq, int hq, int hkv, int d, float scale),
        (dk, dv, q, k, v, dout, lse, delta, batch, seq, hq, hkv, d, scale))
