// Row moves: embedding lookup (gather), its gradient (atomic scatter-add into float), and scattering
// selected rows back (label positions are distinct, so plain stores).
#include "common.cuh"

template <typename T>
__device__ void gather_rows(T* out, const T* table, const int* index, int rows, int dim) {
    long total = (long) rows * dim;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        long r = idx / dim; int c = (int) (idx % dim);
        out[idx] = table[(long) index[r] * dim + c];
    }
}
EXPORT2(gather_rows, (T* out, const T* table, const int* index, int rows, int dim), (out, table, index, rows, dim))

// The embedding lookup of a bf16 table into float activations.
extern "C" __global__ void gather_rows_bf16_to_f32(float* out, const bf16* table, const int* index, int rows, int dim) {
    long total = (long) rows * dim;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        long r = idx / dim; int c = (int) (idx % dim);
        out[idx] = to_float(table[(long) index[r] * dim + c]);
    }
}

template <typename T>
__device__ void scatter_add_rows(float* table_grad, const T* src, const int* index, int rows, int dim) {
    long total = (long) rows * dim;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        long r = idx / dim; int c = (int) (idx % dim);
        atomicAdd(table_grad + (long) index[r] * dim + c, to_float(src[idx]));
    }
}
EXPORT2(scatter_add_rows, (float* table_grad, const T* src, const int* index, int rows, int dim), (table_grad, src, index, rows, dim))

template <typename T>
__device__ void scatter_rows(T* out, const T* src, const int* index, int rows, int dim) {
    long total = (long) rows * dim;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        long r = idx / dim; int c = (int) (idx % dim);
        out[(long) index[r] * dim + c] = src[idx];
    }
}
EXPORT2(scatter_rows, (T* out, const T* src, const int* index, int rows, int dim), (out, src, index, rows, dim))
