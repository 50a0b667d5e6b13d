// NF4 dequantization in bitsandbytes' layout: two 4-bit codes per byte, the first element in the high nibble;
// one absmax per 2^block_shift elements of the flattened weight, kept either as float (absmax) or, with double
// quantization, as an 8-bit code (codes) of nested_map scaled by one float per 2^nested_shift codes, plus offset.
// Block sizes are powers of two, so block indices are shifts: 64-bit divisions would cost more than the decoding.
// Every step rounds to float on its own (no fused multiply-add: __fmul_rn/__fadd_rn are never contracted), as
// bitsandbytes and the CPU backend compute it, so the float values are bit for bit the CPU's before the final
// rounding to T. The products of a linear layer dequantize one weight (or a chunk of its rows) into scratch right
// before its GEMM, so these kernels are bound by memory bandwidth.
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

// The 16 codebook values in shared memory, where a lookup per element is one shared load.
__device__ __forceinline__ void load_book(float* book, const float* codebook) {
    if (threadIdx.x < 16) book[threadIdx.x] = codebook[threadIdx.x];
    __syncthreads();
}

// Elements from, from + stride, ... below n one by one: the ragged tail whose codes may end inside a 16-byte word.
template <typename T>
__device__ __forceinline__ void nf4_dequant_tail(T* out, const unsigned char* packed, const unsigned char* codes, const float* absmax,
                                                 const float* nested_absmax, const float* nested_map, const float* book,
                                                 int block_shift, int nested_shift, float offset, long start, long from, long n) {
    for (long i = from; i < n; i += (long) gridDim.x * blockDim.x) {
        long e = start + i;
        unsigned int byte = packed[e >> 1];
        unsigned int code = (e & 1) == 0 ? byte >> 4 : byte & 15u;
        out[i] = from_float<T>(__fmul_rn(book[code], nf4_scale(codes, absmax, nested_absmax, nested_map, nested_shift, offset, e >> block_shift)));
    }
}

// out[i] = codebook[code] * scale for elements start + i, i < n, of the flattened weight; start is a multiple of 32
// and out 16-byte aligned. Two layouts of the same arithmetic follow, each with UNROLL 16-byte loads of codes per
// thread per pass of the grid-stride loop, issued together before any is decoded (2 with a grid of a thread per 64
// elements, 4 with a grid of one wave of resident blocks: Kernels.nf4Dequantize chooses). Both are bit for bit the
// CPU's values; Nf4DequantBenchmark measures which is faster.

// By threads: group g (elements start + 32g .. +31) is one aligned 16-byte load of codes, and its 64 (bf16) or
// 128 (float) bytes of output are contiguous with its neighbours', so a warp's loads are whole lines while each store
// instruction covers half of each of 64 sectors. Blocks of at least 32 give a group one scale; smaller blocks, one
// per 8 elements.
template <typename T, int UNROLL>
__device__ void nf4_dequant_by_threads(T* out, const unsigned char* packed, const unsigned char* codes, const float* absmax,
                                       const float* nested_absmax, const float* nested_map, const float* codebook,
                                       int block_shift, int nested_shift, float offset, long start, long n) {
    __shared__ float book[16];
    load_book(book, codebook);
    const uint4* groups = (const uint4*) (packed + start / 2);
    long whole = n / 32, stride = (long) gridDim.x * blockDim.x, first = blockIdx.x * (long) blockDim.x + threadIdx.x;
    for (long g0 = first; g0 < whole; g0 += UNROLL * stride) {
        uint4 q[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            long g = g0 + u * stride;
            q[u] = g < whole ? groups[g] : make_uint4(0u, 0u, 0u, 0u);
        }
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
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
    nf4_dequant_tail(out, packed, codes, absmax, nested_absmax, nested_map, book, block_shift, nested_shift, offset, start, whole * 32 + first, n);
}

// By warps: a warp takes 1024 elements at a time. Lane l loads their codes' 16 bytes at 16·l (one 512-byte load for
// the warp), then in four rounds r writes the 8 elements of word 32·r + l (16 bytes of bf16), which it takes from
// lane 8·r + l/4 by shuffles, so each round's stores are 512 contiguous bytes: whole sectors and lines. A scale per
// 8 elements (blocks hold at least 8). Elements past the last whole 1024 are the tail.
template <typename T, int UNROLL>
__device__ void nf4_dequant_by_warps(T* out, const unsigned char* packed, const unsigned char* codes, const float* absmax,
                                     const float* nested_absmax, const float* nested_map, const float* codebook,
                                     int block_shift, int nested_shift, float offset, long start, long n) {
    __shared__ float book[16];
    load_book(book, codebook);
    const uint4* groups = (const uint4*) (packed + start / 2);
    int lane = threadIdx.x & 31;
    long whole = n / 1024, warps = ((long) gridDim.x * blockDim.x) >> 5, warp = (blockIdx.x * (long) blockDim.x + threadIdx.x) >> 5;
    for (long c0 = warp; c0 < whole; c0 += UNROLL * warps) {
        uint4 q[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            long c = c0 + u * warps;
            q[u] = c < whole ? groups[c * 32 + lane] : make_uint4(0u, 0u, 0u, 0u);
        }
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            long c = c0 + u * warps;
            if (c >= whole) break;  // uniform across the warp: c depends on the warp only, so the shuffles see every lane
#pragma unroll
            for (int r = 0; r < 4; r++) {
                int from = 8 * r + (lane >> 2), pick = lane & 3;
                unsigned int x = __shfl_sync(FULL_MASK, q[u].x, from), y = __shfl_sync(FULL_MASK, q[u].y, from);
                unsigned int z = __shfl_sync(FULL_MASK, q[u].z, from), w = __shfl_sync(FULL_MASK, q[u].w, from);
                unsigned int word = pick == 0 ? x : pick == 1 ? y : pick == 2 ? z : w;
                long local = c * 1024 + (32 * r + lane) * 8;
                float s = nf4_scale(codes, absmax, nested_absmax, nested_map, nested_shift, offset, (start + local) >> block_shift);
                float v[8];
                decode8(word, book, s, v);
                store8(out + local, v, finite(s));
            }
        }
    }
    nf4_dequant_tail(out, packed, codes, absmax, nested_absmax, nested_map, book, block_shift, nested_shift, offset, start,
                     whole * 1024 + blockIdx.x * (long) blockDim.x + threadIdx.x, n);
}

#define NF4_PARAMS (T* out, const unsigned char* packed, const unsigned char* codes, const float* absmax, \
                    const float* nested_absmax, const float* nested_map, const float* codebook, \
                    int block_shift, int nested_shift, float offset, long start, long n)
#define NF4_ARGS (out, packed, codes, absmax, nested_absmax, nested_map, codebook, block_shift, nested_shift, offset, start, n)

// Entry points nf4_dequant_{threads,warps}{2,4}_{f32,bf16}: layout and loads in flight per thread.
template <typename T> __device__ void nf4_dequant_threads2 NF4_PARAMS { nf4_dequant_by_threads<T, 2> NF4_ARGS; }
template <typename T> __device__ void nf4_dequant_threads4 NF4_PARAMS { nf4_dequant_by_threads<T, 4> NF4_ARGS; }
template <typename T> __device__ void nf4_dequant_warps2 NF4_PARAMS { nf4_dequant_by_warps<T, 2> NF4_ARGS; }
template <typename T> __device__ void nf4_dequant_warps4 NF4_PARAMS { nf4_dequant_by_warps<T, 4> NF4_ARGS; }
EXPORT2(nf4_dequant_threads2, NF4_PARAMS, NF4_ARGS)
EXPORT2(nf4_dequant_threads4, NF4_PARAMS, NF4_ARGS)
EXPORT2(nf4_dequant_warps2, NF4_PARAMS, NF4_ARGS)
EXPORT2(nf4_dequant_warps4, NF4_PARAMS, NF4_ARGS)

// scales[b] = the float scale of double-quantized block b, for blocks first .. first + count - 1 (indexed from the
// weight's first block): a first pass that leaves the main pass one float load per block, as plain absmax does.
extern "C" __global__ void nf4_scales(float* scales, const unsigned char* codes, const float* nested_absmax, const float* nested_map,
                                      int nested_shift, float offset, long first, long count) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < count; i += (long) gridDim.x * blockDim.x) {
        scales[first + i] = nf4_scale(codes, 0, nested_absmax, nested_map, nested_shift, offset, first + i);
    }
}
