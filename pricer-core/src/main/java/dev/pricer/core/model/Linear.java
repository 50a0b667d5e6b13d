package dev.pricer.core.model;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.lora.LoraWeights;

/**
 * A bias-free linear layer {@code y = x·Wᵀ}, {@code W} of shape {@code [out, in]} (float or NF4), optionally with
 * a LoRA pair ({@code y += s·(drop(x)·Aᵀ)·Bᵀ}) and optionally with a gradient for a float {@code W}
 * (full-parameter training).
 *
 * <p>Saves for backward: its input (owned by the caller) and, with LoRA, {@code u = s·drop(x)·Aᵀ} of shape
 * {@code [rows, r]}. The dropout mask is not saved: it is recomputed from the seed.
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

    /**
     * y = x·Wᵀ (+ LoRA), then plus {@code residual} unless it is null: the input of the residual connection this
     * layer's output joins, which the backend adds with the products ({@link Backend#matmulABtPlusResidual}).
     * {@code scratch} holds at least {@code rows·in} floats, used for dropout.
     */
    void forward(Backend be, Buffer x, Buffer residual, Buffer y, Buffer u, int rows, Dropout dropout, Buffer scratch) {
        if (lora == null) {
            if (residual == null) weight.forward(be, x, y, rows, out, in);
            else weight.forwardPlusResidual(be, x, null, null, residual, y, rows, out, in, 0);
            return;
        }
        be.matmulABtScaled(dropped(be, x, rows, dropout, scratch), lora.a(), u, rows, lora.r(), in, lora.scaling());
        if (residual == null) {
            weight.forward(be, x, y, rows, out, in);
            be.matmulABt(u, lora.b(), y, rows, out, lora.r(), true);
        } else {
            weight.forwardPlusResidual(be, x, u, lora.b(), residual, y, rows, out, in, lora.r());
        }
    }

    /**
     * From {@code dy}: writes (or with {@code accumulateDx} adds) {@code dx}, and accumulates the gradients
     * this layer trains. {@code du} holds {@code rows·r} elements; {@code scratch} two blocks of {@code rows·in}.
     */
    void backward(Backend be, Buffer dy, Buffer x, Buffer dx, boolean accumulateDx, Buffer u, int rows,
                  Dropout dropout, Buffer du, Buffer scratch) {
        if (weightGrad != null) be.matmulAtB(dy, x, weightGrad, out, in, rows, true);
        weight.backwardInput(be, dy, dx, rows, out, in, accumulateDx);
        if (lora == null) return;
        int r = lora.r();
        be.matmulAtB(dy, u, lora.gradB(), out, r, rows, true);
        du = du.slice(0, (long) rows * r);
        be.matmulABScaled(dy, lora.b(), du, rows, r, out, lora.scaling());
        Buffer src = dropped(be, x, rows, dropout, scratch);
        be.matmulAtB(du, src, lora.gradA(), r, in, rows, true);
        if (dropout.active(lora)) {
            Buffer dxDropped = scratch.slice((long) rows * in, (long) rows * in);
            be.matmulAB(du, lora.a(), dxDropped, rows, in, r, false);
            Buffer dxDirect = scratch.slice(0, (long) rows * in);
            be.dropout(dxDropped, dxDirect, lora.dropout(), dropout.seed());
            be.axpy(1f, dxDirect, dx);
        } else {
            be.matmulAB(du, lora.a(), dx, rows, in, r, true);
        }
    }

    private Buffer dropped(Backend be, Buffer x, int rows, Dropout dropout, Buffer scratch) {
        if (!dropout.active(lora)) return x;
        Buffer out = scratch.slice(0, (long) rows * in);
        be.dropout(x, out, lora.dropout(), dropout.seed());
        return out;
    }

    /** Whether LoRA dropout applies in this pass, and the seed of this layer's mask. */
    record Dropout(boolean training, long seed) {
        static final Dropout OFF = new Dropout(false, 0);

        boolean active(LoraWeights lora) {
            return training && lora != null && lora.dropout() > 0f;
        }
    }
}
