// NF4 dequantization in bitsandbytes' layout: two 4-bit codes per byte, the first element in the high nibble;
// one absmax per 2^block_shift elements of the flattened weight, kept either as float (absmax) or, with double
// quantization, as an 8-bit code (codes) of nested_map scaled by one float per 2^nested_shift codes, plus offset.
// Block sizes are powers of two, so block indices are shifts: 64-bit divisions would cost more than the decoding.
// Every step rounds to float on its own (no fused multiply-add: __fmul_rn/__fadd_rn are never contracted), as
// bitsandbytes and the CPU backend compute it, so the float values are bit for bit the CPU's before the final
// rounding to T. The products of a linear layer dequantize one weight into scratch right before its GEMM, so this
// kernel is bound by memory bandwidth: it moves its bytes at 0.87 of the rate of a device copy moving as many
// (scripts/nf4_dequant_probe.py on an H200; a thread-per-group layout and a float-scales first pass measured less).
#include "nf4.cuh"

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

// Streaming stores (evict first): the 32 MB weights of an 8B model dequantize 11% faster (scripts/nf4_dequant_probe.py).
__device__ __forceinline__ void store8(bf16* out, const float* v, bool finite) {
    __stcs((uint4*) out, finite
            ? make_uint4(bf16_pair_rn(v[0], v[1]), bf16_pair_rn(v[2], v[3]), bf16_pair_rn(v[4], v[5]), bf16_pair_rn(v[6], v[7]))
            : make_uint4(bf16_pair(v[0], v[1]), bf16_pair(v[2], v[3]), bf16_pair(v[4], v[5]), bf16_pair(v[6], v[7])));
}

__device__ __forceinline__ bool finite(float x) {
    return (__float_as_uint(x) & 0x7fffffffu) < 0x7f800000u;
}

// The 16 codebook values and the nested map's 256 in shared memory, where a lookup is one shared load.
__device__ __forceinline__ void load_tables(float* book, float* map, const float* codebook, const Nf4Scales& s) {
    if (threadIdx.x < 16) book[threadIdx.x] = codebook[threadIdx.x];
    if (s.codes != 0) for (int i = threadIdx.x; i < 256; i += blockDim.x) map[i] = s.nested_map[i];
    __syncthreads();
}

// Elements from, from + stride, ... below n one by one: the ragged tail whose codes may end inside a 16-byte word.
template <typename T>
__device__ __forceinline__ void nf4_dequant_tail(T* out, const unsigned char* packed, const Nf4Scales& scales, const float* book,
                                                 const float* map, int block_shift, long from, long n) {
    for (long e = from; e < n; e += (long) gridDim.x * blockDim.x) {
        unsigned int byte = packed[e >> 1];
        unsigned int code = (e & 1) == 0 ? byte >> 4 : byte & 15u;
        out[e] = from_float<T>(__fmul_rn(book[code], resolve_scale(scales, map, fetch_scale(scales, e >> block_shift))));
    }
}

// out[e] = codebook[code of e] * scale of e's block, for the n elements of the flattened weight; out is 16-byte
// aligned. Bit for bit the CPU's values.
// A warp takes 1024 elements at a time, in four rounds r: lane l decodes word 32·r + l of their codes (one 128-byte load
// for the warp) and writes its 8 elements (16 bytes of bf16), so each round's stores are 512 contiguous bytes, whole
// sectors and lines. A scale per 8 elements (blocks hold at least 8). Warps stride over the weight, and each issues the
// loads of its next 1024 (codes and the four rounds' scale inputs) before it decodes the current one, so no load waits
// on another: looking a scale's code and then its map entry up from memory round by round cost 6% of the kernel's
// time (scripts/nf4_dequant_probe.py). Elements past the last whole 1024 are the tail.
struct Nf4Group {
    unsigned int codes[4];
    PendingScale scale[4];
};

__device__ __forceinline__ Nf4Group fetch_group(const unsigned int* groups, const Nf4Scales& scales, int block_shift, long c, int lane) {
    Nf4Group g;
#pragma unroll
    for (int r = 0; r < 4; r++) g.codes[r] = groups[c * 128 + 32 * r + lane];
#pragma unroll
    for (int r = 0; r < 4; r++) g.scale[r] = fetch_scale(scales, (c * 1024 + (32 * r + lane) * 8) >> block_shift);
    return g;
}

template <typename T>
__device__ void nf4_dequant(T* out, const unsigned char* packed, const Nf4Scales scales, const float* codebook,
                            int block_shift, long n) {
    __shared__ float book[16], map[256];
    load_tables(book, map, codebook, scales);
    const unsigned int* groups = (const unsigned int*) packed;
    int lane = threadIdx.x & 31;
    long whole = n / 1024, warps = ((long) gridDim.x * blockDim.x) >> 5, warp = (blockIdx.x * (long) blockDim.x + threadIdx.x) >> 5;
    Nf4Group next;
    if (warp < whole) next = fetch_group(groups, scales, block_shift, warp, lane);
    for (long c = warp; c < whole; c += warps) {
        Nf4Group now = next;
        if (c + warps < whole) next = fetch_group(groups, scales, block_shift, c + warps, lane);
#pragma unroll
        for (int r = 0; r < 4; r++) {
            unsigned int word = now.codes[r];
            float s = resolve_scale(scales, map, now.scale[r]);
            float v[8];
            decode8(word, book, s, v);
            store8(out + c * 1024 + (32 * r + lane) * 8, v, finite(s));
        }
    }
    nf4_dequant_tail(out, packed, scales, book, map, block_shift, whole * 1024 + blockIdx.x * (long) blockDim.x + threadIdx.x, n);
}

EXPORT2(nf4_dequant,
        (T* out, const unsigned char* packed, const unsigned char* codes, const float* absmax, const float* nested_absmax,
         const float* nested_map, const float* codebook, int block_shift, int nested_shift, float offset, long n),
        (out, packed, Nf4Scales{codes, absmax, nested_absmax, nested_map, nested_shift, offset}, codebook, block_shift, n))
