// SwiGLU: h = silu(g) * u over [rows, cols]; g and u rows may be strided (ldg, ldu), so a fused gate+up
// product [rows, 2*cols] works as well as two separate ones. Backward may run in place over g and u.
#include "common.cuh"

__device__ __forceinline__ float sigmoid(float x) { return 1.f / (1.f + expf(-x)); }

template <typename T>
__device__ void swiglu_fwd(T* h, const T* g, const T* u, int rows, int cols, int ldg, int ldu) {
    long total = (long) rows * cols;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        long r = idx / cols; int c = (int) (idx % cols);
        float gv = to_float(g[r * ldg + c]), uv = to_float(u[r * ldu + c]);
        h[idx] = from_float<T>(gv * sigmoid(gv) * uv);
    }
}
EXPORT2(swiglu_fwd, (T* h, const T* g, const T* u, int rows, int cols, int ldg, int ldu), (h, g, u, rows, cols, ldg, ldu))

template <typename T>
__device__ void swiglu_bwd(T* dg, T* du, const T* dh, const T* g, const T* u, int rows, int cols, int ldg, int ldu) {
    long total = (long) rows * cols;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        long r = idx / cols; int c = (int) (idx % cols);
        float gv = to_float(g[r * ldg + c]), uv = to_float(u[r * ldu + c]), d = to_float(dh[idx]);
        float s = sigmoid(gv);
        dg[r * ldg + c] = from_float<T>(d * uv * s * (1.f + gv * (1.f - s)));
        du[r * ldu + c] = from_float<T>(d * gv * s);
    }
}
EXPORT2(swiglu_bwd, (T* dg, T* du, const T* dh, const T* g, const T* u, int rows, int cols, int ldg, int ldu),
        (dg, du, dh, g, u, rows, cols, ldg, ldu))
