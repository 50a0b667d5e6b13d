// NF4 dequantization in bitsandbytes' layout: two 4-bit codes per byte, the first element in the high nibble;
// one absmax per 2^block_shift elements of the flattened weight, kept either as float (absmax) or, with double
// quantization, as an 8-bit code (codes) of nested_map scaled by one float per 2^nested_shift codes, plus offset.
// Block sizes are powers of two, so block indices are shifts: 64-bit divisions would cost more than the decoding.
// Every step rounds to float on its own (no fused multiply-add: __fmul_rn/__fadd_rn are never contracted), as
// bitsandbytes and the CPU backend compute it, so the float values are bit for bit the CPU's before the final
// rounding to T. The products of a linear layer dequantize one weight into scratch right before its GEMM, so this
// kernel is bound by memory bandwidth: it runs at the rate of a device-to-device copy of the same bytes
// (Nf4DequantBenchmark; a thread-per-group layout and a float-scales first pass measured 0.45 to 0.86 of it).
#include "nf4.cuh"

__device__ __forceinline__ float nf4_scale(const unsigned char* codes, const float* absmax, const float* nested_absmax,
                                           const float* nested_map, int nested_shift, float offset, long block) {
    if (codes == 0) return absmax[block];
    return nf4_nested_scale(nested_map[codes[block]], nested_absmax[block >> nested_shift], offset);
}

// NaN would come out of bf16_pair_rn as the canonical NaN, so non-finite scales take from_float instead.
__device__ __forceinline__ unsigned int bf16_pair(float lo, float hi) {
    return (unsigned int) from_float<bf16>(lo).bits | ((unsigned int) from_float<bf16>(hi).bits << 16);
}

// The eight values of one little-endian word of packed codes (byte j holds elements 2j and 2j + 1, high nibble first).
__device__ __forceinline__ void decode8(unsigned int word, const float* book, float scale, float* v) {
#pragma unroll
    for (int j = 0; j < 4; j++) {
        unsigned int byte = (word >> (8 * j)) & 0xffu;
        v[2 * j] = __fmul_rn(book[byte >> 4], scale);
        v[2 * j + 1] = __fmul_rn(book[byte & 15u], scale);
    }
}

__device__ __forceinline__ void store8(float* out, const float* v, bool) {
    float4* o = (float4*) out;
    o[0] = make_float4(v[0], v[1], v[2], v[3]);
    o[1] = make_float4(v[4], v[5], v[6], v[7]);
}

__device__ __forceinline__ void store8(bf16* out, const float* v, bool finite) {
    *(uint4*) out = finite
            ? make_uint4(bf16_pair_rn(v[0], v[1]), bf16_pair_rn(v[2], v[3]), bf16_pair_rn(v[4], v[5]), bf16_pair_rn(v[6], v[7]))
            : make_uint4(bf16_pair(v[0], v[1]), bf16_pair(v[2], v[3]), bf16_pair(v[4], v[5]), bf16_pair(v[6], v[7]));
}

__device__ __forceinline__ bool finite(float x) {
    return (__float_as_uint(x) & 0x7fffffffu) < 0x7f800000u;
}

// The 16 codebook values in shared memory, where a lookup per element is one shared load.
__device__ __forceinline__ void load_book(float* book, const float* codebook) {
    if (threadIdx.x < 16) book[threadIdx.x] = codebook[threadIdx.x];
    __syncthreads();
}

// Elements from, from + stride, ... below n one by one: the ragged tail whose codes may end inside a 16-byte word.
template <typename T>
__device__ __forceinline__ void nf4_dequant_tail(T* out, const unsigned char* packed, const unsigned char* codes, const float* absmax,
                                                 const float* nested_absmax, const float* nested_map, const float* book,
                                                 int block_shift, int nested_shift, float offset, long from, long n) {
    for (long e = from; e < n; e += (long) gridDim.x * blockDim.x) {
        unsigned int byte = packed[e >> 1];
        unsigned int code = (e & 1) == 0 ? byte >> 4 : byte & 15u;
        out[e] = from_float<T>(__fmul_rn(book[code], nf4_scale(codes, absmax, nested_absmax, nested_map, nested_shift, offset, e >> block_shift)));
    }
}

// out[e] = codebook[code of e] * scale of e's block, for the n elements of the flattened weight; out is 16-byte
// aligned. Bit for bit the CPU's values.
// A warp takes 1024 elements at a time. Lane l loads their codes' 16 bytes at 16·l (one 512-byte load for the warp),
// then in four rounds r writes the 8 elements of word 32·r + l (16 bytes of bf16), which it takes from lane
// 8·r + l/4 by shuffles, so each round's stores are 512 contiguous bytes: whole sectors and lines. A scale per 8
// elements (blocks hold at least 8). Each thread has LOADS 16-byte loads of codes in flight before it decodes any.
// Elements past the last whole 1024 are the tail.
constexpr int LOADS = 2;

template <typename T>
__device__ void nf4_dequant(T* out, const unsigned char* packed, const unsigned char* codes, const float* absmax,
                            const float* nested_absmax, const float* nested_map, const float* codebook,
                            int block_shift, int nested_shift, float offset, long n) {
    __shared__ float book[16];
    load_book(book, codebook);
    const uint4* groups = (const uint4*) packed;
    int lane = threadIdx.x & 31;
    long whole = n / 1024, warps = ((long) gridDim.x * blockDim.x) >> 5, warp = (blockIdx.x * (long) blockDim.x + threadIdx.x) >> 5;
    for (long c0 = warp; c0 < whole; c0 += LOADS * warps) {
        uint4 q[LOADS];
#pragma unroll
        for (int u = 0; u < LOADS; u++) {
            long c = c0 + u * warps;
            q[u] = c < whole ? groups[c * 32 + lane] : make_uint4(0u, 0u, 0u, 0u);
        }
#pragma unroll
        for (int u = 0; u < LOADS; u++) {
            long c = c0 + u * warps;
            if (c >= whole) break;  // uniform across the warp: c depends on the warp only, so the shuffles see every lane
#pragma unroll
            for (int r = 0; r < 4; r++) {
                int from = 8 * r + (lane >> 2), pick = lane & 3;
                unsigned int x = __shfl_sync(FULL_MASK, q[u].x, from), y = __shfl_sync(FULL_MASK, q[u].y, from);
                unsigned int z = __shfl_sync(FULL_MASK, q[u].z, from), w = __shfl_sync(FULL_MASK, q[u].w, from);
                unsigned int word = pick == 0 ? x : pick == 1 ? y : pick == 2 ? z : w;
                long e = c * 1024 + (32 * r + lane) * 8;
                float s = nf4_scale(codes, absmax, nested_absmax, nested_map, nested_shift, offset, e >> block_shift);
                float v[8];
                decode8(word, book, s, v);
                store8(out + e, v, finite(s));
            }
        }
    }
    nf4_dequant_tail(out, packed, codes, absmax, nested_absmax, nested_map, book, block_shift, nested_shift, offset,
                     whole * 1024 + blockIdx.x * (long) blockDim.x + threadIdx.x, n);
}

EXPORT2(nf4_dequant,
        (T* out, const unsigned char* packed, const unsigned char* codes, const float* absmax, const float* nested_absmax,
         const float* nested_map, const float* codebook, int block_shift, int nested_shift, float offset, long n),
        (out, packed, codes, absmax, nested_absmax, nested_map, codebook, block_shift, nested_shift, offset, n))
