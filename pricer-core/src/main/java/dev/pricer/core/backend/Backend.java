package dev.pricer.core.backend;

import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.OptionalLong;

/**
 * The kernels the Llama model and the trainer need, over {@link Buffer}s this backend allocates. The model plans
 * its buffers up front and only calls these methods, so a CPU and a CUDA implementation are interchangeable.
 *
 * <p>Conventions: matrices are row-major F32; {@code rows} counts tokens; a method that says "accumulates" adds
 * into its output (gradients, residual streams), the others overwrite. Methods returning a Java number
 * synchronise with the device.
 */
public interface Backend extends AutoCloseable {

    String name();

    // ---- memory ----

    /**
     * The most device memory this backend's process has held through it (weights, activations, optimizer state,
     * scratch), for runs to report; empty for a backend without device memory of its own (the CPU).
     */
    default OptionalLong peakDeviceMemoryBytes() {
        return OptionalLong.empty();
    }

    /** A zero-filled buffer of F32 or I32 elements. */
    Buffer allocate(DType dtype, long length);

    /**
     * A zero-filled F32 buffer for activations that a training pass keeps from a layer's forward pass for its
     * backward pass, or for gradients that only pass from one product to the next. A backend may store them in
     * lower precision (CUDA in bf16 precision keeps them as bf16, as PyTorch does under bf16), so what is
     * written is rounded; the default stores float32.
     */
    default Buffer allocateActivations(long length) {
        return allocate(DType.F32, length);
    }

    /**
     * The tensor as an F32 buffer (integers as I32). Converts BF16/F16/F64; the CPU backend may share an F32
     * tensor's memory (a mapped weight file) without copying, so the buffer must be treated as read-only
     * unless {@code writable}.
     */
    Buffer upload(HostTensor tensor, boolean writable);

    /**
     * A 2-D NF4 weight (QLoRA's frozen base) kept packed on this backend, for {@link #matmulNf4ABt} and
     * {@link #matmulNf4AB}. The backend may keep a view of {@code weight}'s memory (a mapped checkpoint).
     */
    Nf4Buffer uploadNf4(Nf4Weight weight);

    /** Copies {@code dst.length()} elements from host memory (native byte order, same dtype as {@code dst}). */
    void copyFromHost(MemorySegment src, Buffer dst);

    /** Copies all of {@code src} to host memory (native byte order). */
    void copyToHost(Buffer src, MemorySegment dst);

    /** A float buffer's values (bf16 storage widened), once the work enqueued before has run. */
    default float[] toFloats(Buffer src) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(src.length() * Float.BYTES, 8);
            copyToHost(src, host);
            return host.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    void copy(Buffer src, Buffer dst);

    void fill(Buffer buffer, float value);

    // ---- linear algebra (F32, row-major) ----

    /** c[m×n] (+)= a[m×k] · b[n×k]ᵀ: a linear layer's forward {@code y = x·Wᵀ}. */
    void matmulABt(Buffer a, Buffer b, Buffer c, int m, int n, int k, boolean accumulate);

    /** c[m×n] (+)= a[m×k] · b[k×n]: a linear layer's input gradient {@code dx = dy·W}. */
    void matmulAB(Buffer a, Buffer b, Buffer c, int m, int n, int k, boolean accumulate);

    /** c[m×n] (+)= a[k×m]ᵀ · b[k×n]: a linear layer's weight gradient {@code dW = dyᵀ·x}. */
    void matmulAtB(Buffer a, Buffer b, Buffer c, int m, int n, int k, boolean accumulate);

    /**
     * c[m×n] (+)= a[k×m]ᵀ · b[n×k]ᵀ: LoRA's products over its intermediate, which is stored transposed ({@code uᵀ}
     * [r, rows]) so that the projections sharing an input keep theirs as one block: {@code y += u·Bᵀ},
     * {@code dB += dyᵀ·u}.
     */
    void matmulAtBt(Buffer a, Buffer b, Buffer c, int m, int n, int k, boolean accumulate);

    /**
     * c[m×n] (+)= a[m×k] · wᵀ with {@code w} an NF4 {@code [n, k]}: a quantized linear layer's forward. Each weight
     * element is decoded inside the product (or into scratch for one weight at a time), never kept dequantized.
     */
    void matmulNf4ABt(Buffer a, Nf4Buffer w, Buffer c, int m, int n, int k, boolean accumulate);

    /** c[m×n] (+)= a[m×k] · w with {@code w} an NF4 {@code [k, n]}: a quantized layer's input gradient (the base does not train). */
    void matmulNf4AB(Buffer a, Nf4Buffer w, Buffer c, int m, int n, int k, boolean accumulate);

    /**
     * c[m×n] = (a[m×k] · b[n×k]ᵀ + (ut[r×m])ᵀ · v[n×r]ᵀ) + residual[m×n] (overwrites c; {@code residual}, of c's
     * shape, is only read): a linear layer's forward onto the residual stream, {@code h = x + o(…)}, with its LoRA
     * update, {@code ut = s·A·drop(x)ᵀ} (LoRA's intermediate, transposed) and {@code v = B} ({@code ut} and
     * {@code v} null, r 0, without one). The default
     * adds in PEFT's and transformers' order: the product, the low-rank product accumulated into it, then the
     * residual ({@link #axpy}). A GPU instead adds the residual as it stores the base product, saving a pass over
     * c, and accumulates the low-rank product after: the same sum, rounded in another order.
     */
    default void matmulABtPlusResidual(Buffer a, Buffer b, Buffer ut, Buffer v, Buffer residual, Buffer c, int m, int n, int k, int r) {
        matmulABt(a, b, c, m, n, k, false);
        addLowRankThenResidual(ut, v, residual, c, m, n, r);
    }

    /** {@link #matmulABtPlusResidual} with {@code w} an NF4 {@code [n, k]}: a quantized layer's forward onto the residual stream. */
    default void matmulNf4ABtPlusResidual(Buffer a, Nf4Buffer w, Buffer ut, Buffer v, Buffer residual, Buffer c, int m, int n, int k, int r) {
        matmulNf4ABt(a, w, c, m, n, k, false);
        addLowRankThenResidual(ut, v, residual, c, m, n, r);
    }

    private void addLowRankThenResidual(Buffer ut, Buffer v, Buffer residual, Buffer c, int m, int n, int r) {
        if (ut != null) matmulAtBt(ut, v, c, m, n, r, true);
        axpy(1f, residual, c);
    }

    /**
     * c[m×n] = alpha · a[m×k] · b[n×k]ᵀ (overwrites): LoRA's down-projection with its scaling, {@code uᵀ = s·A·xᵀ}
     * (for projections sharing an input, their A matrices stacked). The default is the
     * product, then {@link #scale}; a GPU folds alpha into the product, so {@code c} may be activation storage
     * ({@link #allocateActivations}) that {@code scale} cannot take.
     */
    default void matmulABtScaled(Buffer a, Buffer b, Buffer c, int m, int n, int k, float alpha) {
        matmulABt(a, b, c, m, n, k, false);
        scale(c, alpha);
    }

    /**
     * c[m×n] = alpha · a[k×m]ᵀ · b[n×k]ᵀ (overwrites), as {@link #matmulABtScaled}: LoRA's gradient at its rank,
     * transposed as its intermediate is, {@code duᵀ = s·Bᵀ·dyᵀ}.
     */
    default void matmulAtBtScaled(Buffer a, Buffer b, Buffer c, int m, int n, int k, float alpha) {
        matmulAtBt(a, b, c, m, n, k, false);
        scale(c, alpha);
    }

    /** y += alpha · x, elementwise. */
    void axpy(float alpha, Buffer x, Buffer y);

    /** x *= alpha, elementwise. */
    void scale(Buffer x, float alpha);

    /** Σ x², in double: per-parameter terms of the global gradient norm. */
    double sumOfSquares(Buffer x);

    /**
     * Σ x² over all the buffers, in double: the square of the global gradient norm, as one result, so a GPU
     * waits once rather than once per parameter. The default adds each buffer's {@link #sumOfSquares(Buffer)} in order.
     */
    default double sumOfSquares(List<Buffer> xs) {
        double sum = 0;
        for (Buffer x : xs) sum += sumOfSquares(x);
        return sum;
    }

    // ---- layers ----

    /**
     * HF Llama RMSNorm over rows of {@code dim}: {@code out = weight · x / sqrt(mean(x²) + eps)}, computed in
     * float32. Saves {@code 1/sqrt(mean(x²) + eps)} per row in {@code rstd} for the backward pass.
     */
    void rmsNormForward(Buffer x, Buffer weight, Buffer out, Buffer rstd, int rows, int dim, float eps);

    /**
     * Overwrites {@code dx} with {@code dResidual} plus the norm's input gradient, added in that order element by
     * element: {@code dResidual} is the gradient that reaches x around the norm (the residual stream's), null
     * where none does; it may be {@code dx} itself, which then accumulates. Accumulates into {@code dweight}
     * unless it is null (frozen weight).
     */
    void rmsNormBackward(Buffer dout, Buffer x, Buffer weight, Buffer rstd, Buffer dResidual, Buffer dx, Buffer dweight, int rows, int dim);

    /**
     * Rotate-half RoPE in place on {@code [rows, heads * headDim]}; row r is at position {@code positions[r]} (I32).
     * {@code cos} and {@code sin} are {@code [maxPositions, headDim / 2]}. {@code inverse} rotates backwards,
     * which is the backward pass of the rotation.
     */
    void rope(Buffer x, Buffer positions, Buffer cos, Buffer sin, int rows, int heads, int headDim, boolean inverse);

    /**
     * How many F32 elements {@link #attentionForward} keeps in {@code probs} for the backward pass at this shape:
     * by default the softmax probabilities, {@link AttentionShape#probabilityCount()}; a flash-style backend
     * that recomputes them keeps only per-row statistics.
     */
    default long attentionSavedLength(AttentionShape shape) {
        return shape.probabilityCount();
    }

    /**
     * Causal grouped-query attention with scale {@code 1/sqrt(headDim)} (see {@link AttentionShape}).
     * {@code validLengths} (I32, one per sequence) masks right padding. {@code probs} ({@link #attentionSavedLength}
     * elements) saves what the backward pass needs; null in inference.
     */
    void attentionForward(Buffer q, Buffer k, Buffer v, Buffer validLengths, Buffer out, Buffer probs, AttentionShape shape);

    /**
     * Overwrites {@code dq}, {@code dk}, {@code dv} from {@code dout} and what the forward pass saved in {@code probs}.
     * {@code out} is that forward pass's output, unchanged since: a flash-style backend takes each query row's
     * {@code sum(dout · out)} from it (the softmax backward's row term) rather than from a second pass over the keys.
     */
    void attentionBackward(Buffer dout, Buffer q, Buffer k, Buffer v, Buffer out, Buffer probs, Buffer validLengths,
                           Buffer dq, Buffer dk, Buffer dv, AttentionShape shape);

    /** out = silu(gate) · up, elementwise. */
    void swigluForward(Buffer gate, Buffer up, Buffer out);

    /** Overwrites dgate and dup. */
    void swigluBackward(Buffer dout, Buffer gate, Buffer up, Buffer dgate, Buffer dup);

    /**
     * {@link #swigluBackward} of {@code [rows, cols]} gate and up into one {@code [rows, 2·cols]} buffer (overwritten),
     * each row dgate's {@code cols} values, then dup's: the left operand of the MLP's input gradient as one product,
     * {@code [dgate | dup] · [W_gate; W_up]}.
     */
    void swigluBackwardGateUp(Buffer dout, Buffer gate, Buffer up, Buffer dgateUp, int rows, int cols);

    /** The sizes {@link #swigluBackwardGateUp} requires, for its implementations to check. */
    static void checkGateUp(Buffer gate, Buffer dgateUp, int rows, int cols) {
        long n = (long) rows * cols;
        if (gate.length() != n || dgateUp.length() != 2 * n) {
            throw new IllegalArgumentException("gate of " + gate.length() + " and dgateUp of " + dgateUp.length() + " elements for rows " + rows + ", cols " + cols);
        }
    }

    /** out[r] = table[indices[r]]: the embedding lookup, and picking label positions out of a sequence. */
    void gatherRows(Buffer table, Buffer indices, Buffer out, int rows, int dim);

    /** table[indices[r]] += src[r]: the backward of {@link #gatherRows}. Repeated indices add up. */
    void scatterAddRows(Buffer src, Buffer indices, Buffer table, int rows, int dim);

    /**
     * Cross-entropy of each row of {@code logits} against {@code targets} (I32); returns the sum over rows.
     * When {@code gradScale != 0}, replaces the logits in place by {@code gradScale · (softmax − onehot)}, the
     * gradient of {@code gradScale · sum}.
     */
    double crossEntropy(Buffer logits, Buffer targets, int rows, int vocab, float gradScale);

    /**
     * Inverted dropout: {@code out = x · mask / (1 − p)}, the mask drawn from a counter-based hash of
     * {@code (seed, index)}. Being a pure function of the seed, it is its own backward: apply it to the gradient
     * with the same seed.
     */
    void dropout(Buffer x, Buffer out, float p, long seed);

    // ---- optimizer ----

    /** One AdamW update of {@code param} in place, moments {@code m} and {@code v} updated too. */
    void adamw(Buffer param, Buffer grad, Buffer m, Buffer v, AdamW hyper);

    /**
     * One AdamW update of every parameter, each gradient first multiplied in place by {@code gradScale} (gradient
     * clipping): the optimizer step over all trainable parameters. The default scales, then updates, one by one;
     * a GPU fuses the scaling into the update.
     */
    default void adamw(List<Buffer> params, List<Buffer> grads, List<Buffer> m, List<Buffer> v, AdamW hyper, float gradScale) {
        for (int i = 0; i < params.size(); i++) {
            if (gradScale != 1f) scale(grads.get(i), gradScale);
            adamw(params.get(i), grads.get(i), m.get(i), v.get(i), hyper);
        }
    }

    @Override
    void close();
}
