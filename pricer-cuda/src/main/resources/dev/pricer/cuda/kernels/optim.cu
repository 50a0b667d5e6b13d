// Optimizer kernels over the flat float32 buffer of all LoRA parameters: the global gradient norm and
// clip factor, then AdamW exactly as torch.optim.AdamW, with the clip factor read on the device so no
// host round trip sits between them.
#include "common.cuh"

// acc[0] += sum(g^2); launch over a zeroed double.
extern "C" __global__ void sum_squares(const float* g, long n, double* acc) {
    float s = 0.f;
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) s += g[i] * g[i];
    s = block_sum(s);
    if (threadIdx.x == 0) atomicAdd(acc, (double) s);
}

// norm = sqrt(acc); scale = min(1, max_norm / (norm + 1e-6)) as torch.nn.utils.clip_grad_norm_; max_norm <= 0 means no clipping.
extern "C" __global__ void clip_factor(const double* acc, float max_norm, float* norm_out, float* scale_out) {
    float norm = (float) sqrt(acc[0]);
    norm_out[0] = norm;
    scale_out[0] = max_norm > 0.f ? fminf(1.f, max_norm / (norm + 1e-6f)) : 1.f;
}

// One AdamW step; bc1 = 1 - beta1^t, bc2 = 1 - beta2^t. With grad_scale (may be null) the gradient is first
// multiplied by grad_scale[0] in place (clipping). shadow (may be null) receives the new parameters in the
// activation type, for the next forward pass's products.
template <typename T>
__device__ void adamw(float* p, float* g, float* m, float* v, T* shadow, long n, float lr, float beta1,
                      float beta2, float eps, float weight_decay, float bc1, float bc2, const float* grad_scale) {
    float gs = grad_scale ? grad_scale[0] : 1.f;
    float step = lr / bc1, sqrtBc2 = sqrtf(bc2);
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        float gi = g[i] * gs;
        if (grad_scale) g[i] = gi;
        float pi = p[i] * (1.f - lr * weight_decay);
        float mi = m[i] + (gi - m[i]) * (1.f - beta1);   // torch's lerp
        float vi = v[i] * beta2 + gi * gi * (1.f - beta2);
        pi -= mi / (sqrtf(vi) / sqrtBc2 + eps) * step;
        p[i] = pi; m[i] = mi; v[i] = vi;
        if (shadow) shadow[i] = from_float<T>(pi);
    }
}
EXPORT2(adamw, (float* p, float* g, float* m, float* v, T* shadow, long n, float lr, float beta1, float beta2, float eps,
                float weight_decay, float bc1, float bc2, const float* grad_scale),
        (p, g, m, v, shadow, n, lr, beta1, beta2, eps, weight_decay, bc1, bc2, grad_scale))

// The same two kernels over a whole list of buffers in one launch (the trainer's 4 LoRA matrices per layer
// make hundreds of small buffers, each a launch of its own otherwise): blockIdx.y picks the buffer from
// device tables of addresses and lengths, blockIdx.x strides over it.
extern "C" __global__ void sum_squares_multi(const float* const* gs, const long* lengths, double* acc) {
    const float* g = gs[blockIdx.y];
    long n = lengths[blockIdx.y];
    float s = 0.f;
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) s += g[i] * g[i];
    s = block_sum(s);
    if (threadIdx.x == 0) atomicAdd(acc, (double) s);
}

// shadows[t] may be null: that buffer has no bf16 copy to refresh.
extern "C" __global__ void adamw_multi(float* const* ps, float* const* gs, float* const* ms, float* const* vs, bf16* const* shadows,
                                       const long* lengths, float lr, float beta1, float beta2, float eps, float weight_decay,
                                       float bc1, float bc2, const float* grad_scale) {
    int t = blockIdx.y;
    adamw<bf16>(ps[t], gs[t], ms[t], vs[t], shadows[t], lengths[t], lr, beta1, beta2, eps, weight_decay, bc1, bc2, grad_scale);
}
