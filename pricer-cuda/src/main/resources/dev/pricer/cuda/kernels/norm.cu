// RMSNorm as Hugging Face's LlamaRMSNorm: statistics in float, x * rsqrt(mean(x^2) + eps) rounded to the
// input's type, then scaled by the weight and stored in the output's type (a float residual stream may feed
// bf16 activations: rmsnorm_fwd_f32_to_bf16). One block per row.
#include "vector.cuh"

// A forward's entry points: name_f32, name_bf16 and name_f32_to_bf16 (float in, bf16 out).
#define RMSNORM_FWD_ENTRIES(name) \
    EXPORT2(name, (T* out, float* rstd, const T* x, const T* w, int rows, int dim, float eps), (out, rstd, x, w, rows, dim, eps)) \
    extern "C" __global__ void name##_f32_to_bf16(bf16* out, float* rstd, const float* x, const float* w, int rows, int dim, \
                                                  float eps) { \
        name<float, bf16>(out, rstd, x, w, rows, dim, eps); \
    }

template <typename T, typename TO>
__device__ void rmsnorm_fwd(TO* out, float* rstd, const T* x, const T* w, int rows, int dim, float eps) {
    int row = blockIdx.x;
    const T* xr = x + (size_t) row * dim;
    float ss = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float v = to_float(xr[i]);
        ss += v * v;
    }
    float r = rsqrtf(block_sum(ss) / dim + eps);
    TO* o = out + (size_t) row * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float normed = to_float(from_float<T>(to_float(xr[i]) * r));
        o[i] = from_float<TO>(to_float(w[i]) * normed);
    }
    if (threadIdx.x == 0) rstd[row] = r;
}
RMSNORM_FWD_ENTRIES(rmsnorm_fwd)

// dx = dres + (r * w*dy - x * r^3 / dim * sum(w*dy*x)): dres is the residual stream's gradient around the norm
// (null: none), and may be dx itself.
template <typename T>
__device__ void rmsnorm_bwd(T* dx, const T* dres, const T* dy, const T* x, const T* w, const float* rstd, int rows, int dim) {
    int row = blockIdx.x;
    const T* xr = x + (size_t) row * dim;
    const T* dyr = dy + (size_t) row * dim;
    float dot = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) dot += to_float(w[i]) * to_float(dyr[i]) * to_float(xr[i]);
    dot = block_sum(dot);
    float r = rstd[row];
    float c = dot * r * r * r / dim;
    T* d = dx + (size_t) row * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float g = r * to_float(w[i]) * to_float(dyr[i]) - to_float(xr[i]) * c;
        d[i] = from_float<T>(dres ? to_float(dres[(size_t) row * dim + i]) + g : g);
    }
}
EXPORT2(rmsnorm_bwd, (T* dx, const T* dres, const T* dy, const T* x, const T* w, const float* rstd, int rows, int dim),
        (dx, dres, dy, x, w, rstd, rows, dim))

// dweight[c] += sum over rows of dy * x * rstd: the norm weight's gradient (full training). One thread per column.
extern "C" __global__ void rmsnorm_dweight(float* dweight, const float* dy, const float* x, const float* rstd, int rows, int dim) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= dim) return;
    float acc = 0.f;
    for (int r = 0; r < rows; r++) acc += dy[(long) r * dim + c] * x[(long) r * dim + c] * rstd[r];
    dweight[c] += acc;
}

// The same two passes with each thread's share of the row held in registers: dim a multiple of 8, at most
// ROW_CHUNKS chunks of 8 per thread (Kernels sizes the block), so x is read from memory once.
#define ROW_CHUNKS 4

// f(j, c) for each chunk c of 8 that this thread holds of a row of `chunks` chunks, j being its slot in registers.
template <typename F>
__device__ __forceinline__ void for_each_chunk(int chunks, F f) {
#pragma unroll
    for (int j = 0; j < ROW_CHUNKS; j++) {
        int c = threadIdx.x + j * blockDim.x;
        if (c < chunks) f(j, c);
    }
}

template <typename T, typename TO>
__device__ void rmsnorm_fwd_vec(TO* out, float* rstd, const T* x, const T* w, int rows, int dim, float eps) {
    int row = blockIdx.x, chunks = dim / VEC;
    const T* xr = x + (size_t) row * dim;
    float v[ROW_CHUNKS][VEC];
    float ss = 0.f;
    for_each_chunk(chunks, [&](int j, int c) {
        load8(xr + c * VEC, v[j]);
#pragma unroll
        for (int e = 0; e < VEC; e++) ss += v[j][e] * v[j][e];
    });
    float r = rsqrtf(block_sum(ss) / dim + eps);
    TO* o = out + (size_t) row * dim;
    for_each_chunk(chunks, [&](int j, int c) {
        float wv[VEC], ov[VEC];
        load8(w + c * VEC, wv);
#pragma unroll
        for (int e = 0; e < VEC; e++) ov[e] = wv[e] * through<T>(v[j][e] * r);
        store8(o + c * VEC, ov);
    });
    if (threadIdx.x == 0) rstd[row] = r;
}
RMSNORM_FWD_ENTRIES(rmsnorm_fwd_vec)

// copy (may be null) also receives dx in bf16: the operand the next product reads in bf16 precision, so no
// separate rounding pass has to read dx back.
template <typename T>
__device__ void rmsnorm_bwd_vec(T* dx, bf16* copy, const T* dres, const T* dy, const T* x, const T* w, const float* rstd,
                                int rows, int dim) {
    int row = blockIdx.x, chunks = dim / VEC;
    const T* xr = x + (size_t) row * dim;
    const T* dyr = dy + (size_t) row * dim;
    float xv[ROW_CHUNKS][VEC], gv[ROW_CHUNKS][VEC];
    float dot = 0.f;
    for_each_chunk(chunks, [&](int j, int c) {
        float wv[VEC];
        load8(xr + c * VEC, xv[j]);
        load8(dyr + c * VEC, gv[j]);
        load8(w + c * VEC, wv);
#pragma unroll
        for (int e = 0; e < VEC; e++) {
            gv[j][e] *= wv[e];
            dot += gv[j][e] * xv[j][e];
        }
    });
    dot = block_sum(dot);
    float r = rstd[row];
    float k = dot * r * r * r / dim;
    T* d = dx + (size_t) row * dim;
    // Without a residual this points at dx's row and is never read; addressed this way ptxas keeps the f32 kernel at
    // 80 registers (three blocks of 256 threads an SM), where dres + row * dim at the load costs 8 to 10 more.
    const T* res = (dres ? dres : dx) + (size_t) row * dim;
    // Spelled out rather than through for_each_chunk: as a lambda ptxas gives this kernel 90 to 96 registers, not 80.
#pragma unroll
    for (int j = 0; j < ROW_CHUNKS; j++) {
        int c = threadIdx.x + j * blockDim.x;
        if (c < chunks) {
            float prior[VEC], ov[VEC];
            if (dres) load8(res + c * VEC, prior);
#pragma unroll
            for (int e = 0; e < VEC; e++) {
                float g = r * gv[j][e] - xv[j][e] * k;
                ov[e] = dres ? prior[e] + g : g;
            }
            store8(d + c * VEC, ov);
            if (copy) store8(copy + (size_t) row * dim + c * VEC, ov);
        }
    }
}
EXPORT2(rmsnorm_bwd_vec, (T* dx, bf16* copy, const T* dres, const T* dy, const T* x, const T* w, const float* rstd, int rows, int dim),
        (dx, copy, dres, dy, x, w, rstd, rows, dim))
