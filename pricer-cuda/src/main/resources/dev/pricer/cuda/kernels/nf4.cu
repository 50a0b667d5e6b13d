// NF4 dequantization in bitsandbytes' layout: two 4-bit codes per byte, the first element in the high nibble;
// one absmax per 2^block_shift elements of the flattened weight, kept either as float (absmax) or, with double
// quantization, as an 8-bit code (codes) of nested_map scaled by one float per 2^nested_shift codes, plus offset.
// Block sizes are powers of two, so block indices are shifts: 64-bit divisions would cost more than the decoding.
// Every step rounds to float on its own (no fused multiply-add: __fmul_rn/__fadd_rn are never contracted), as
// bitsandbytes and the CPU backend compute it, so the float values are bit for bit the CPU's before the final
// rounding to T. The products of a linear layer dequantize one weight (or a chunk of its rows) into scratch right
// before its GEMM, so this kernel is bound by memory bandwidth: it reads 16 bytes of codes per thread at once.
#include "common.cuh"

__device__ __forceinline__ float nf4_scale(const unsigned char* codes, const float* absmax, const float* nested_absmax,
                                           const float* nested_map, int nested_shift, float offset, long block) {
    if (codes == 0) return absmax[block];
    return __fadd_rn(__fmul_rn(nested_map[codes[block]], nested_absmax[block >> nested_shift]), offset);
}

// Two floats to a bf16 pair in one instruction (round to nearest even, as from_float<bf16>, for finite values;
// NaN would come out as the canonical NaN, so non-finite scales take from_float instead).
__device__ __forceinline__ unsigned int bf16_pair_rn(float lo, float hi) {
    unsigned int packed;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(hi), "f"(lo));
    return packed;
}

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

// Groups of 32 elements (16 bytes of codes) per thread per pass of the grid-stride loop: their loads go out together.
#define NF4_UNROLL 2

// out[i] = codebook[code] * scale for elements start + i, i < n, of the flattened weight. start is a multiple of 32,
// so group g (elements start + 32g .. +31) is one aligned 16-byte load of codes, and its 64 (bf16) or 128 (float)
// bytes of output are contiguous with its neighbours', so a warp's loads and stores are whole lines. Blocks of at
// least 32 give a group one scale; smaller blocks, one per 8 elements. The ragged tail (n not a multiple of 32,
// whose codes may end inside a 16-byte word) is decoded element by element. out must be 16-byte aligned.
template <typename T>
__device__ void nf4_dequant(T* out, const unsigned char* packed, const unsigned char* codes, const float* absmax,
                            const float* nested_absmax, const float* nested_map, const float* codebook,
                            int block_shift, int nested_shift, float offset, long start, long n) {
    __shared__ float book[16];
    if (threadIdx.x < 16) book[threadIdx.x] = codebook[threadIdx.x];
    __syncthreads();
    const uint4* groups = (const uint4*) (packed + start / 2);
    long whole = n / 32, stride = (long) gridDim.x * blockDim.x, first = blockIdx.x * (long) blockDim.x + threadIdx.x;
    for (long g0 = first; g0 < whole; g0 += NF4_UNROLL * stride) {
        uint4 q[NF4_UNROLL];
#pragma unroll
        for (int u = 0; u < NF4_UNROLL; u++) {
            long g = g0 + u * stride;
            q[u] = g < whole ? groups[g] : make_uint4(0u, 0u, 0u, 0u);
        }
#pragma unroll
        for (int u = 0; u < NF4_UNROLL; u++) {
            long g = g0 + u * stride;
            if (g >= whole) break;
            long e = start + g * 32;
            unsigned int words[4] = {q[u].x, q[u].y, q[u].z, q[u].w};
            float scale = block_shift >= 5 ? nf4_scale(codes, absmax, nested_absmax, nested_map, nested_shift, offset, e >> block_shift) : 0.f;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                float s = block_shift >= 5 ? scale
                        : nf4_scale(codes, absmax, nested_absmax, nested_map, nested_shift, offset, (e + 8 * j) >> block_shift);
                float v[8];
                decode8(words[j], book, s, v);
                store8(out + g * 32 + 8 * j, v, finite(s));
            }
        }
    }
    for (long i = whole * 32 + first; i < n; i += stride) {
        long e = start + i;
        unsigned int byte = packed[e >> 1];
        unsigned int code = (e & 1) == 0 ? byte >> 4 : byte & 15u;
        out[i] = from_float<T>(__fmul_rn(book[code], nf4_scale(codes, absmax, nested_absmax, nested_map, nested_shift, offset, e >> block_shift)));
    }
}
EXPORT2(nf4_dequant, (T* out, const unsigned char* packed, const unsigned char* codes, const float* absmax,
                      const float* nested_absmax, const float* nested_map, const float* codebook,
                      int block_shift, int nested_shift, float offset, long start, long n),
        (out, packed, codes, absmax, nested_absmax, nested_map, codebook, block_shift, nested_shift, offset, start, n))
