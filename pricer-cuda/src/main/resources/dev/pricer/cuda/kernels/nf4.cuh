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
