// What both NF4 kernels (nf4.cu's dequantization, nf4_gemm.cu's fused product) must compute alike, so that their
// values are bit for bit the CPU's: a double-quantized block's scale, and the rounding of decoded pairs to bf16.
#pragma once
#include "common.cuh"

// A block's absmax under double quantization: nested_map[code] · its nested absmax + offset, each step rounded to float
// on its own (no fused multiply-add: __fmul_rn/__fadd_rn are never contracted), as bitsandbytes and the CPU compute it.
__device__ __forceinline__ float nf4_nested_scale(float mapped, float nested_absmax, float offset) {
    return __fadd_rn(__fmul_rn(mapped, nested_absmax), offset);
}

// Two floats to a bf16 pair in one instruction: lo in the low half. Round to nearest even, as from_float<bf16>, for
// finite values; NaN comes out as the canonical NaN.
__device__ __forceinline__ unsigned int bf16_pair_rn(float lo, float hi) {
    unsigned int packed;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(packed) : "f"(hi), "f"(lo));
    return packed;
}

// Where a weight's block scales live: with double quantization, an 8-bit code per block into nested_map, one float per
// 2^nested_shift blocks (nested_absmax) and the offset; without it (codes null), a float absmax per block.
struct Nf4Scales {
    const unsigned char* codes;  // null: plain float absmax
    const float* absmax;
    const float* nested_absmax;
    const float* nested_map;
    int nested_shift;
    float offset;
};

// A block scale's inputs, loaded ahead of the decoding that needs them so that the loads of many blocks are in flight
// at once; resolve_scale then looks the code up in the nested map (held in shared memory by the caller).
struct PendingScale {
    float value;  // absmax, or the nested map's entry is looked up later from code
    float nested;
    unsigned int code;
};

__device__ __forceinline__ PendingScale fetch_scale(const Nf4Scales& s, long block) {
    PendingScale p;
    if (s.codes == 0) {
        p.value = __ldg(s.absmax + block);
        p.nested = 0.f;
        p.code = 0;
    } else {
        p.value = 0.f;
        p.code = __ldg(s.codes + block);
        p.nested = __ldg(s.nested_absmax + (block >> s.nested_shift));
    }
    return p;
}

__device__ __forceinline__ float resolve_scale(const Nf4Scales& s, const float* map, PendingScale p) {
    return s.codes == 0 ? p.value : nf4_nested_scale(map[p.code], p.nested, s.offset);
}
