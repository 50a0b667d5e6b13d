// Eight elements at a time through 16-byte loads and stores, for the memory-bound element-wise kernels:
// one 16-byte access carries eight bf16 values (two for eight floats), so each thread keeps several
// transactions in flight where a scalar loop would issue 2- or 4-byte ones. Callers guarantee 16-byte
// alignment (Kernels checks the addresses before it picks a *_vec kernel).
#pragma once
#include "common.cuh"

#define VEC 8

__device__ __forceinline__ void load8(const float* p, float* f) {
    float4 a = reinterpret_cast<const float4*>(p)[0], b = reinterpret_cast<const float4*>(p)[1];
    f[0] = a.x; f[1] = a.y; f[2] = a.z; f[3] = a.w; f[4] = b.x; f[5] = b.y; f[6] = b.z; f[7] = b.w;
}

__device__ __forceinline__ void load8(const bf16* p, float* f) {
    uint4 raw = *reinterpret_cast<const uint4*>(p);
    unsigned int w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        f[2 * i] = __uint_as_float(w[i] << 16);
        f[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
    }
}

__device__ __forceinline__ void store8(float* p, const float* f) {
    reinterpret_cast<float4*>(p)[0] = make_float4(f[0], f[1], f[2], f[3]);
    reinterpret_cast<float4*>(p)[1] = make_float4(f[4], f[5], f[6], f[7]);
}

__device__ __forceinline__ void store8(bf16* p, const float* f) {
    unsigned int w[4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
        w[i] = (unsigned int) from_float<bf16>(f[2 * i]).bits | ((unsigned int) from_float<bf16>(f[2 * i + 1]).bits << 16);
    }
    *reinterpret_cast<uint4*>(p) = make_uint4(w[0], w[1], w[2], w[3]);
}

// Float values rounded through T, as a store to T and a load back would give.
template <typename T> __device__ __forceinline__ float through(float f) { return to_float(from_float<T>(f)); }
