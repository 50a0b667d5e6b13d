// Element-wise kernels: conversions between float and bf16, axpy, scaling, and inverted dropout.
#include "vector.cuh"

extern "C" __global__ void f32_to_bf16(bf16* out, const float* in, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) out[i] = from_float<bf16>(in[i]);
}

extern "C" __global__ void bf16_to_f32(float* out, const bf16* in, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) out[i] = to_float(in[i]);
}

// y += alpha * x; axpy_f32_to_bf16 adds float x into bf16 y.
template <typename T, typename X>
__device__ void axpy(T* y, const X* x, float alpha, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        y[i] = from_float<T>(to_float(y[i]) + alpha * to_float(x[i]));
    }
}
EXPORT2(axpy, (T* y, const T* x, float alpha, long n), (y, x, alpha, n))
extern "C" __global__ void axpy_f32_to_bf16(bf16* y, const float* x, float alpha, long n) { axpy<bf16, float>(y, x, alpha, n); }

// The vector forms of the conversions and of axpy: n a multiple of 8, addresses 16-byte aligned.
extern "C" __global__ void f32_to_bf16_vec(bf16* out, const float* in, long n) {
    for (long i = (blockIdx.x * (long) blockDim.x + threadIdx.x) * VEC; i < n; i += (long) gridDim.x * blockDim.x * VEC) {
        float v[VEC];
        load8(in + i, v);
        store8(out + i, v);
    }
}

template <typename T, typename X>
__device__ void axpy_vec(T* y, const X* x, float alpha, long n) {
    for (long i = (blockIdx.x * (long) blockDim.x + threadIdx.x) * VEC; i < n; i += (long) gridDim.x * blockDim.x * VEC) {
        float yv[VEC], xv[VEC];
        load8(y + i, yv);
        load8(x + i, xv);
#pragma unroll
        for (int e = 0; e < VEC; e++) yv[e] += alpha * xv[e];
        store8(y + i, yv);
    }
}
EXPORT2(axpy_vec, (T* y, const T* x, float alpha, long n), (y, x, alpha, n))
extern "C" __global__ void axpy_vec_f32_to_bf16(bf16* y, const float* x, float alpha, long n) { axpy_vec<bf16, float>(y, x, alpha, n); }

extern "C" __global__ void scale_f32(float* x, float alpha, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) x[i] *= alpha;
}

// The counter-based hash of the CPU backend (MurmurHash3's finaliser over index and seed), bit for bit,
// so both backends draw the same dropout masks.
__device__ __forceinline__ unsigned int dropout_hash(unsigned int index, unsigned int seed_lo, unsigned int seed_hi) {
    unsigned int h = (index ^ seed_hi) * 0x9E3779B1u + seed_lo;
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

// out (float) = x * keep_scale where the top 24 bits of the hash reach threshold (= p * 2^24), else 0.
template <typename T>
__device__ void dropout(float* out, const T* x, long n, unsigned int seed_lo, unsigned int seed_hi, int threshold, float keep_scale) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        bool kept = (int) (dropout_hash((unsigned int) i, seed_lo, seed_hi) >> 8) >= threshold;
        out[i] = kept ? to_float(x[i]) * keep_scale : 0.f;
    }
}
EXPORT2(dropout, (float* out, const T* x, long n, unsigned int seed_lo, unsigned int seed_hi, int threshold, float keep_scale),
        (out, x, n, seed_lo, seed_hi, threshold, keep_scale))
