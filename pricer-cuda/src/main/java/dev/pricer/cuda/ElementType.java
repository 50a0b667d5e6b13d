package dev.pricer.cuda;

import dev.pricer.cuda.lib.CublasLt;

/** The element types of activations and weights on the GPU: float32 (the checking mode) and bfloat16. */
public enum ElementType {
    F32(4, "f32", CublasLt.R_32F),
    BF16(2, "bf16", CublasLt.R_16BF);

    private final int bytes;
    private final String suffix;
    private final int cudaType;

    ElementType(int bytes, String suffix, int cudaType) {
        this.bytes = bytes;
        this.suffix = suffix;
        this.cudaType = cudaType;
    }

    public int bytes() {
        return bytes;
    }

    /** The suffix of a kernel's entry point for this type, e.g. {@code rmsnorm_fwd_bf16}. */
    public String suffix() {
        return suffix;
    }

    int cudaType() {
        return cudaType;
    }
}
