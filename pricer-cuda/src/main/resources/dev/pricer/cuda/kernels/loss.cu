// Cross-entropy at the label positions, chunked over the vocabulary: the caller computes one chunk of
// logits [rows, cols] (columns c0 .. c0+cols of the vocabulary) at a time, and these kernels fold it into a
// running max and sum per row, so full logits are never stored. One block per row.
#include "common.cuh"

// Folds a chunk into (row_max, row_sum) and picks the target's logit when it falls in the chunk.
// Start with row_max = -inf and row_sum = 0.
extern "C" __global__ void ce_chunk_stats(const float* logits, int rows, int cols, int c0, const int* target,
                                          float* row_max, float* row_sum, float* target_logit) {
    int row = blockIdx.x;
    const float* x = logits + (long) row * cols;
    float m = neg_inf();
    for (int c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, x[c]);
    m = block_max(m);
    float s = 0.f;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) s += expf(x[c] - m);
    s = block_sum(s);
    if (threadIdx.x == 0) {
        float old = row_max[row];
        float mNew = fmaxf(old, m);
        row_sum[row] = row_sum[row] * expf(old - mNew) + s * expf(m - mNew);
        row_max[row] = mNew;
        int t = target[row];
        if (t >= c0 && t < c0 + cols) target_logit[row] = x[t - c0];
    }
}

// loss = logsumexp - target logit; lse keeps logsumexp for the backward pass.
extern "C" __global__ void ce_finish(float* loss, float* lse, const float* row_max, const float* row_sum,
                                     const float* target_logit, int rows) {
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= rows) return;
    float l = row_max[row] + logf(row_sum[row]);
    lse[row] = l;
    loss[row] = l - target_logit[row];
}

// dlogits = (softmax - onehot(target)) * dloss[row] for one chunk, in the activation type for the next product.
template <typename T>
__device__ void ce_chunk_grad(T* dlogits, const float* logits, int rows, int cols, int c0, const int* target,
                              const float* lse, const float* dloss) {
    int row = blockIdx.x;
    const float* x = logits + (long) row * cols;
    T* dx = dlogits + (long) row * cols;
    float l = lse[row], w = dloss[row];
    int t = target[row] - c0;
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
        dx[c] = from_float<T>((expf(x[c] - l) - (c == t ? 1.f : 0.f)) * w);
    }
}
EXPORT2(ce_chunk_grad, (T* dlogits, const float* logits, int rows, int cols, int c0, const int* target, const float* lse, const float* dloss),
        (dlogits, logits, rows, cols, c0, target, lse, dloss))
