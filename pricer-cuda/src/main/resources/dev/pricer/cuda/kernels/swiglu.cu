// SwiGLU: h = silu(g) * u over [rows, cols]; g and u rows may be strided (ldg, ldu), so a fused gate+up
// product [rows, 2*cols] works as well as two separate ones. Backward writes dg and du rows ldd apart: with
// du = dg + cols and ldd = 2*cols, one [rows, 2*cols] buffer [dg | du], the left operand of the MLP's input
// gradient as one product with [W_gate; W_up]. It may run in place over g and u (ldd = ldg = ldu), and may
// take bf16 g and u with float gradients (swiglu_bwd_bf16_f32, bf16 activations kept for a float backward pass).
#include "vector.cuh"

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

template <typename T, typename G>
__device__ void swiglu_bwd(G* dg, G* du, const G* dh, const T* g, const T* u, int rows, int cols, int ldg, int ldu, int ldd) {
    long total = (long) rows * cols;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        long r = idx / cols; int c = (int) (idx % cols);
        float gv = to_float(g[r * ldg + c]), uv = to_float(u[r * ldu + c]), d = to_float(dh[idx]);
        float s = sigmoid(gv);
        dg[r * ldd + c] = from_float<G>(d * uv * s * (1.f + gv * (1.f - s)));
        du[r * ldd + c] = from_float<G>(d * gv * s);
    }
}
EXPORT2(swiglu_bwd, (T* dg, T* du, const T* dh, const T* g, const T* u, int rows, int cols, int ldg, int ldu, int ldd),
        (dg, du, dh, g, u, rows, cols, ldg, ldu, ldd))
extern "C" __global__ void swiglu_bwd_bf16_f32(float* dg, float* du, const float* dh, const bf16* g, const bf16* u, int rows,
                                               int cols, int ldg, int ldu, int ldd) {
    swiglu_bwd<bf16, float>(dg, du, dh, g, u, rows, cols, ldg, ldu, ldd);
}

// Contiguous g, u and h (ld = cols, as the model's separate gate and up products give), n a multiple of 8:
// the same arithmetic, eight elements per 16-byte access. Backward's element i goes to row i / cols of dg and
// du, rows ldd apart (cols and ldd multiples of 8, so no access straddles a row; ldd = cols = n: contiguous).
template <typename T>
__device__ void swiglu_fwd_vec(T* h, const T* g, const T* u, long n) {
    for (long i = (blockIdx.x * (long) blockDim.x + threadIdx.x) * VEC; i < n; i += (long) gridDim.x * blockDim.x * VEC) {
        float gv[VEC], uv[VEC], hv[VEC];
        load8(g + i, gv);
        load8(u + i, uv);
#pragma unroll
        for (int j = 0; j < VEC; j++) hv[j] = gv[j] * sigmoid(gv[j]) * uv[j];
        store8(h + i, hv);
    }
}
EXPORT2(swiglu_fwd_vec, (T* h, const T* g, const T* u, long n), (h, g, u, n))

template <typename T, typename G>
__device__ void swiglu_bwd_vec(G* dg, G* du, const G* dh, const T* g, const T* u, long n, long cols, long ldd) {
    for (long i = (blockIdx.x * (long) blockDim.x + threadIdx.x) * VEC; i < n; i += (long) gridDim.x * blockDim.x * VEC) {
        long o = i + i / cols * (ldd - cols);
        float gv[VEC], uv[VEC], d[VEC], dgv[VEC], duv[VEC];
        load8(g + i, gv);
        load8(u + i, uv);
        load8(dh + i, d);
#pragma unroll
        for (int j = 0; j < VEC; j++) {
            float s = sigmoid(gv[j]);
            dgv[j] = d[j] * uv[j] * s * (1.f + gv[j] * (1.f - s));
            duv[j] = d[j] * gv[j] * s;
        }
        store8(dg + o, dgv);
        store8(du + o, duv);
    }
}
EXPORT2(swiglu_bwd_vec, (T* dg, T* du, const T* dh, const T* g, const T* u, long n, long cols, long ldd),
        (dg, du, dh, g, u, n, cols, ldd))
extern "C" __global__ void swiglu_bwd_vec_bf16_f32(float* dg, float* du, const float* dh, const bf16* g, const bf16* u, long n,
                                                   long cols, long ldd) {
    swiglu_bwd_vec<bf16, float>(dg, du, dh, g, u, n, cols, ldd);
}
