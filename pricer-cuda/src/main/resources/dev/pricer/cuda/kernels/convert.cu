// Element-wise conversions and sums between float and bf16.
#include "common.cuh"

extern "C" __global__ void f32_to_bf16(bf16* out, const float* in, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) out[i] = from_float<bf16>(in[i]);
}

extern "C" __global__ void bf16_to_f32(float* out, const bf16* in, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) out[i] = to_float(in[i]);
}

// y += alpha * x
template <typename T>
__device__ void axpy(T* y, const T* x, float alpha, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        y[i] = from_float<T>(to_float(y[i]) + alpha * to_float(x[i]));
    }
}
EXPORT2(axpy, (T* y, const T* x, float alpha, long n), (y, x, alpha, n))
