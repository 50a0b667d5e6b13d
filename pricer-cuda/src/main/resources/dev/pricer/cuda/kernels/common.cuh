// Shared by every kernel file: the element types, conversions and warp/block reductions.
// Kernels are templates over the activation type T (float or bf16) and always accumulate in float.
// EXPORT2 gives each template two C entry points, name_f32 and name_bf16, so Java can find them by name
// without C++ name mangling.
#pragma once

#define FULL_MASK 0xffffffffu

// bfloat16 as its bit pattern: NVRTC then needs no toolkit headers.
struct bf16 { unsigned short bits; };

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(bf16 x) { return __uint_as_float(((unsigned int) x.bits) << 16); }

template <typename T> __device__ __forceinline__ T from_float(float f);
template <> __device__ __forceinline__ float from_float<float>(float f) { return f; }
// Round to nearest even, as PyTorch does; NaN stays a (quiet) NaN.
template <> __device__ __forceinline__ bf16 from_float<bf16>(float f) {
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return bf16{(unsigned short) ((u >> 16) | 0x40u)};
    u += 0x7fffu + ((u >> 16) & 1u);
    return bf16{(unsigned short) (u >> 16)};
}

// NVRTC has no math.h, so no INFINITY.
__device__ __forceinline__ float neg_inf() { return __int_as_float(0xff800000); }

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, o));
    return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float block_sum(float v) {
    __shared__ float partial[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    v = lane < warps ? partial[lane] : 0.f;
    return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v) {
    __shared__ float partial[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    v = lane < warps ? partial[lane] : neg_inf();
    return warp_max(v);
}

#define EXPORT2(name, PARAMS, ARGS) \
    namespace name##_f32_ns { typedef float T; extern "C" __global__ void name##_f32 PARAMS { name<T> ARGS; } } \
    namespace name##_bf16_ns { typedef bf16 T; extern "C" __global__ void name##_bf16 PARAMS { name<T> ARGS; } }
