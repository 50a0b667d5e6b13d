// NF4 dequantization in bitsandbytes' layout: two 4-bit codes per byte, the first element in the high nibble;
// one absmax per `block` elements of the flattened weight, kept either as float (absmax) or, with double
// quantization, as an 8-bit code (codes) of nested_map scaled by one float per `nested_block` codes, plus offset.
// Every step rounds to float on its own (no fused multiply-add: __fmul_rn/__fadd_rn are never contracted), as
// bitsandbytes and the CPU backend compute it, so the float values are bit for bit the CPU's before the final
// rounding to T. The products of a linear layer dequantize one weight into scratch right before its GEMM.
#include "common.cuh"

__device__ __forceinline__ float nf4_scale(const unsigned char* codes, const float* absmax, const float* nested_absmax,
                                           const float* nested_map, int nested_block, float offset, long block) {
    if (codes == 0) return absmax[block];
    return __fadd_rn(__fmul_rn(nested_map[codes[block]], nested_absmax[block / nested_block]), offset);
}

__device__ __forceinline__ void store8(float* out, long at, const float* v) {
    float4* o = (float4*) (out + at);
    o[0] = make_float4(v[0], v[1], v[2], v[3]);
    o[1] = make_float4(v[4], v[5], v[6], v[7]);
}

__device__ __forceinline__ unsigned int bf16_pair(float lo, float hi) {
    return (unsigned int) from_float<bf16>(lo).bits | ((unsigned int) from_float<bf16>(hi).bits << 16);
}

__device__ __forceinline__ void store8(bf16* out, long at, const float* v) {
    *(uint4*) (out + at) = make_uint4(bf16_pair(v[0], v[1]), bf16_pair(v[2], v[3]), bf16_pair(v[4], v[5]), bf16_pair(v[6], v[7]));
}

// The eight codes of one little-endian word of packed codes (byte j holds elements 2j and 2j + 1, high nibble first).
__device__ __forceinline__ void decode8(unsigned int word, const float* book, float scale, float* v) {
    for (int j = 0; j < 4; j++) {
        unsigned int byte = (word >> (8 * j)) & 0xffu;
        v[2 * j] = __fmul_rn(book[byte >> 4], scale);
        v[2 * j + 1] = __fmul_rn(book[byte & 15u], scale);
    }
}

// Items of work per thread per pass of the grid-stride loop: their loads are issued together, so more bytes are in
// flight than one 4-byte load per thread gives.
#define NF4_UNROLL 4

// out[n] = codebook[code] * scale. Work item w is one 32-bit word of packed codes, elements 8w .. 8w+7 (all in one
// block, since block is a multiple of 8): consecutive threads take consecutive words, so a warp's loads and its
// 16-byte (bf16) or 32-byte (float) stores are contiguous. Each thread takes NF4_UNROLL items a grid stride apart.
// A ragged tail is decoded element by element. packed must be 4-byte and out 16-byte aligned (allocations are).
template <typename T>
__device__ void nf4_dequant(T* out, const unsigned char* packed, const unsigned char* codes, const float* absmax,
                            const float* nested_absmax, const float* nested_map, const float* codebook,
                            int block, int nested_block, float offset, long n) {
    __shared__ float book[16];
    if (threadIdx.x < 16) book[threadIdx.x] = codebook[threadIdx.x];
    __syncthreads();
    long whole = n / 8, words = (n + 7) / 8, stride = (long) gridDim.x * blockDim.x;
    for (long w0 = blockIdx.x * (long) blockDim.x + threadIdx.x; w0 < words; w0 += NF4_UNROLL * stride) {
        unsigned int word[NF4_UNROLL];
        float scale[NF4_UNROLL];
#pragma unroll
        for (int u = 0; u < NF4_UNROLL; u++) {
            long w = w0 + u * stride;
            word[u] = w < whole ? ((const unsigned int*) packed)[w] : 0u;
            scale[u] = w < words ? nf4_scale(codes, absmax, nested_absmax, nested_map, nested_block, offset, w * 8 / block) : 0.f;
        }
#pragma unroll
        for (int u = 0; u < NF4_UNROLL; u++) {
            long w = w0 + u * stride;
            if (w < whole) {
                float v[8];
                decode8(word[u], book, scale[u], v);
                store8(out, w * 8, v);
            } else if (w < words) {
                for (long e = w * 8; e < n; e++) {
                    unsigned int byte = packed[e >> 1];
                    unsigned int code = (e & 1) == 0 ? byte >> 4 : byte & 15u;
                    out[e] = from_float<T>(__fmul_rn(book[code], scale[u]));
                }
            }
        }
    }
}
EXPORT2(nf4_dequant, (T* out, const unsigned char* packed, const unsigned char* codes, const float* absmax,
                      const float* nested_absmax, const float* nested_map, const float* codebook,
                      int block, int nested_block, float offset, long n),
        (out, packed, codes, absmax, nested_absmax, nested_map, codebook, block, nested_block, offset, n))
