package dev.pricer.cuda;

/**
 * A linear layer with a LoRA adapter, {@code y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ}, as four cuBLASLt products with the
 * additions fused into them (beta = 1) rather than separate passes: the low-rank update lands on the base
 * product, and in the backward pass dx collects both paths and the adapter's float gradients accumulate
 * across micro-batches. W [out, in] and the compute copies of A [r, in] and B [out, r] are in the activation
 * type (in bf16 mode the caller keeps bf16 shadows of the float adapter, which {@link Kernels#adamw} refreshes).
 */
public final class LoraLinear {

    private final Gemm gemm;
    private final ElementType type;
    private final int in, out, rank;
    private final float scale;

    public LoraLinear(Gemm gemm, ElementType type, int in, int out, int rank, float scale) {
        this.gemm = gemm;
        this.type = type;
        this.in = in;
        this.out = out;
        this.rank = rank;
        this.scale = scale;
    }

    /** y [rows, out] (+)= x·Wᵀ + s·xa·Bᵀ, keeping xa = x·Aᵀ [rows, rank] for the backward pass. */
    public void forward(DeviceBuffer x, DeviceBuffer w, DeviceBuffer a, DeviceBuffer b, DeviceBuffer xa, DeviceBuffer y,
                        int rows, boolean accumulate) {
        gemm.linear(x, w, y, rows, out, in, type, type, 1f, accumulate ? 1f : 0f);
        gemm.linear(x, a, xa, rows, rank, in, type, type, 1f, 0f);
        gemm.linear(xa, b, y, rows, out, rank, type, type, scale, 1f);
    }

    /**
     * dA [rank, in] and dB [out, rank] (float) += their gradients; dx [rows, in] (+)= dy·W + s·(dy·B)·A.
     * dyb [rows, rank] is scratch.
     */
    public void backward(DeviceBuffer dy, DeviceBuffer x, DeviceBuffer xa, DeviceBuffer w, DeviceBuffer a, DeviceBuffer b,
                         DeviceBuffer dx, DeviceBuffer dA, DeviceBuffer dB, DeviceBuffer dyb, int rows, boolean accumulateDx) {
        gemm.matmul(true, false, out, rank, rows, scale, dy, out, xa, rank, type, 1f, dB, rank, ElementType.F32);
        gemm.matmul(false, false, rows, rank, out, 1f, dy, out, b, rank, type, 0f, dyb, rank, type);
        gemm.matmul(true, false, rank, in, rows, scale, dyb, rank, x, in, type, 1f, dA, in, ElementType.F32);
        gemm.matmul(false, false, rows, in, out, 1f, dy, out, w, in, type, accumulateDx ? 1f : 0f, dx, in, type);
        gemm.matmul(false, false, rows, in, rank, scale, dyb, rank, a, in, type, 1f, dx, in, type);
    }
}
