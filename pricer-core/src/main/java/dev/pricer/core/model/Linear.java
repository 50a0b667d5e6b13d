package dev.pricer.core.model;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.lora.LoraWeights;

/**
 * A bias-free linear layer {@code y = x·Wᵀ}, {@code W} of shape {@code [out, in]} (float or NF4), optionally with
 * a LoRA pair ({@code y += s·(drop(x)·Aᵀ)·Bᵀ}) and optionally with a gradient for a float {@code W}
 * (full-parameter training).
 *
 * <p>The LoRA down-projection runs first, on its own ({@link #down()}) or stacked with those of the projections
 * that share this one's input ({@link LoraDown}); it leaves {@code uᵀ = s·A·drop(x)ᵀ} ({@code [r, rows]}), which
 * {@link #forward} and {@link #backward} take. Saves for backward: its input (owned by the caller) and uᵀ. The
 * dropout mask is not saved: it is recomputed from the seed.
 */
final class Linear {

    final String path;
    final int in;
    final int out;
    final BaseWeight weight;
    final Buffer weightGrad;
    LoraWeights lora;

    Linear(String path, int in, int out, BaseWeight weight, Buffer weightGrad) {
        if (weightGrad != null && !(weight instanceof BaseWeight.Dense)) throw new IllegalArgumentException(path + ": a quantized weight cannot train");
        this.path = path;
        this.in = in;
        this.out = out;
        this.weight = weight;
        this.weightGrad = weightGrad;
    }

    /** This projection's LoRA down-projection on its own. */
    LoraDown down() {
        return new LoraDown(lora.a(), lora.gradA(), lora.r(), in, lora.scaling(), lora.dropout());
    }

    /**
     * y = x·Wᵀ + u·Bᵀ (u from {@code ut}, null without LoRA), then plus {@code residual} unless it is null: the input
     * of the residual connection this layer's output joins, which the backend adds with the products
     * ({@link Backend#matmulABtPlusResidual}).
     */
    void forward(Backend be, Buffer x, Buffer residual, Buffer y, Buffer ut, int rows) {
        if (lora == null) {
            if (residual == null) weight.forward(be, x, y, rows, out, in);
            else weight.forwardPlusResidual(be, x, null, null, residual, y, rows, out, in, 0);
        } else if (residual == null) {
            weight.forward(be, x, y, rows, out, in);
            be.matmulAtBt(ut, lora.b(), y, rows, out, lora.r(), true);
        } else {
            weight.forwardPlusResidual(be, x, ut, lora.b(), residual, y, rows, out, in, lora.r());
        }
    }

    /**
     * From {@code dy}: writes (or with {@code accumulateDx} adds) the base's share of {@code dx}, and accumulates
     * the gradients of W and B. With LoRA, writes {@code dut = s·Bᵀ·dyᵀ} ({@code [r, rows]}), from which the
     * down-projection's backward ({@link LoraDown#backward}) then adds LoRA's share of dx and A's gradient.
     */
    void backward(Backend be, Buffer dy, Buffer x, Buffer dx, boolean accumulateDx, Buffer ut, Buffer dut, int rows) {
        if (weightGrad != null) be.matmulAtB(dy, x, weightGrad, out, in, rows, true);
        weight.backwardInput(be, dy, dx, rows, out, in, accumulateDx);
        if (lora == null) return;
        be.matmulAtBt(dy, ut, lora.gradB(), out, lora.r(), rows, true);
        be.matmulAtBtScaled(lora.b(), dy, dut, lora.r(), rows, out, lora.scaling());
    }

    /** Whether LoRA dropout applies in this pass, and the seed of this layer's mask. */
    record Dropout(boolean training, long seed) {
        static final Dropout OFF = new Dropout(false, 0);

        boolean active(float p) {
            return training && p > 0f;
        }
    }
}
