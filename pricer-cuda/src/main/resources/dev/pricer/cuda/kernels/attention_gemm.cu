// Causal GQA attention as batched products on the tensor cores (cuBLASLt, bf16 in, float accumulation), for a
// whole sequence at a time (no KV cache: keys are the queries' own rows). These kernels move data between the
// model's token-major layout, q and out rows b*S + i of [B*S, H*D], and the head-major one the products take,
// [B*Hq, S, D] with every key and value head repeated for the query heads of its group; and they do the softmax
// between the products. Scores, dP, P and dS are [B*Hq, S, ld] with ld >= S (rows padded for alignment);
// columns past S are never read. Query i sees keys j <= i below lengths[b]. lse: float [B, Hq, S].
#include "common.cuh"

// The indices of element idx of a row-major [outer, mid, inner, d] array, outermost first.
struct Index4 { int outer, mid, inner, x; };

__device__ __forceinline__ Index4 index4(long idx, int mid, int inner, int d) {
    long r = idx / d, n = r / inner;
    return {(int) (n / mid), (int) (n % mid), (int) (r % inner), (int) (idx % d)};
}

// dst [B*Hq, S, D] (bf16) from src rows b*S + i of [B*S, H*D], head h of dst reading src head h / (Hq / H).
template <typename T>
__device__ void attention_pack(bf16* dst, const T* src, int batch, int seq, int heads, int hq, int d) {
    int group = hq / heads;
    long total = (long) batch * hq * seq * d;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        auto [b, h, i, x] = index4(idx, hq, seq, d);
        dst[idx] = from_float<bf16>(to_float(src[((long) b * seq + i) * heads * d + (long) (h / group) * d + x]));
    }
}
EXPORT2(attention_pack, (bf16* dst, const T* src, int batch, int seq, int heads, int hq, int d), (dst, src, batch, seq, heads, hq, d))

// out rows b*S + i of [B*S, Hq*D] (type T) from src [B*Hq, S, D] (float): attention's output and dq.
template <typename T>
__device__ void attention_unpack(T* out, const float* src, int batch, int seq, int hq, int d) {
    long total = (long) batch * seq * hq * d;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        auto [b, i, h, x] = index4(idx, seq, hq, d);
        out[idx] = from_float<T>(src[(((long) b * hq + h) * seq + i) * d + x]);
    }
}
EXPORT2(attention_unpack, (T* out, const float* src, int batch, int seq, int hq, int d), (out, src, batch, seq, hq, d))

// dk, dv rows b*S + j of [B*S, Hkv*D] (type T): the sums over each KV head's group of the per-query-head
// gradients dkh, dvh [B*Hq, S, D] (float).
template <typename T>
__device__ void attention_reduce_heads(T* dk, T* dv, const float* dkh, const float* dvh, int batch, int seq, int hq, int hkv, int d) {
    int group = hq / hkv;
    long total = (long) batch * seq * hkv * d;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        auto [b, j, kvh, x] = index4(idx, seq, hkv, d);
        float sk = 0.f, sv = 0.f;
        for (int g = 0; g < group; g++) {
            long at = (((long) b * hq + (long) kvh * group + g) * seq + j) * d + x;
            sk += dkh[at];
            sv += dvh[at];
        }
        dk[idx] = from_float<T>(sk);
        dv[idx] = from_float<T>(sv);
    }
}
EXPORT2(attention_reduce_heads, (T* dk, T* dv, const float* dkh, const float* dvh, int batch, int seq, int hq, int hkv, int d),
        (dk, dv, dkh, dvh, batch, seq, hq, hkv, d))

// Keys visible to row (b, h, i) of the scores: i + 1, capped by the sequence's length.
__device__ __forceinline__ int keys_visible(const int* lengths, long row, int seq, int hq) {
    int i = (int) (row % seq);
    int b = (int) (row / seq / hq);
    int len = lengths ? lengths[b] : seq;
    return i + 1 < len ? i + 1 : len;
}

// One warp per query row (n, i) of the scaled scores: lse = log-sum-exp over the visible keys, and the
// probabilities p (bf16, zero where masked). A row that sees no key (padding of length 0) gets lse 0 and p 0.
extern "C" __global__ void attention_softmax(bf16* p, float* lse, const float* scores, const int* lengths, int rows_total,
                                             int seq, int hq, int ld) {
    int warps = blockDim.x >> 5, lane = threadIdx.x & 31;
    for (long row = (long) blockIdx.x * warps + (threadIdx.x >> 5); row < rows_total; row += (long) gridDim.x * warps) {
        int n = keys_visible(lengths, row, seq, hq);
        const float* s = scores + row * ld;
        float m = neg_inf();
        for (int j = lane; j < n; j += 32) m = fmaxf(m, s[j]);
        m = warp_max(m);
        float sum = 0.f;
        for (int j = lane; j < n; j += 32) sum += expf(s[j] - m);
        sum = warp_sum(sum);
        float l = n > 0 ? m + logf(sum) : 0.f;
        bf16* pr = p + row * ld;
        for (int j = lane; j < seq; j += 32) pr[j] = from_float<bf16>(j < n ? expf(s[j] - l) : 0.f);
        if (lane == 0) lse[row] = l;
    }
}

// Backward of the softmax, one warp per query row: p = exp(s - lse) on the visible keys, delta = sum_j p dp,
// ds = p (dp - delta); p and ds are stored as bf16 for the products that follow.
extern "C" __global__ void attention_softmax_bwd(bf16* p, bf16* ds, const float* scores, const float* dp, const float* lse,
                                                 const int* lengths, int rows_total, int seq, int hq, int ld) {
    int warps = blockDim.x >> 5, lane = threadIdx.x & 31;
    for (long row = (long) blockIdx.x * warps + (threadIdx.x >> 5); row < rows_total; row += (long) gridDim.x * warps) {
        int n = keys_visible(lengths, row, seq, hq);
        const float* s = scores + row * ld;
        const float* g = dp + row * ld;
        float l = lse[row];
        float delta = 0.f;
        for (int j = lane; j < n; j += 32) delta += expf(s[j] - l) * g[j];
        delta = warp_sum(delta);
        bf16* pr = p + row * ld;
        bf16* dr = ds + row * ld;
        for (int j = lane; j < seq; j += 32) {
            float pj = j < n ? expf(s[j] - l) : 0.f;
            pr[j] = from_float<bf16>(pj);
            dr[j] = from_float<bf16>(j < n ? pj * (g[j] - delta) : 0.f);
        }
    }
}
