package dev.pricer.core.model;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.tensor.DType;

/**
 * Scratch buffers shared by all layers: gradients that live only inside one layer's backward pass, and the
 * room a LoRA layer needs for dropout. One per planned shape, reused layer after layer. The attention's gradients
 * (datt, dq, dk, dv), the MLP's (dgate and dup, in one buffer of {@code [rows, 2·intermediate]}, and dact) and
 * LoRA's gradients at its rank (du, laid out as {@link LayerActivations#lora}) pass only from one operation to the
 * next and are rounded to bf16 by the products that read them anyway, so they take the backend's activation storage
 * (bf16 on CUDA in bf16 precision, as PyTorch's bf16 autograd keeps them). Only dxn, which accumulates the products
 * into the residual stream's gradient, stays float32.
 */
record Workspace(Buffer dq, Buffer dk, Buffer dv, Buffer datt, Buffer dgateUp, Buffer dact, Buffer dxn,
                 Buffer du, Buffer scratch) {

    /** {@code totalRank}: the LoRA ranks of a layer's projections added up. */
    static Workspace allocate(Backend be, LlamaConfig c, int rows, int totalRank, boolean backward) {
        long wide = (long) rows * Math.max(c.hiddenSize(), c.intermediateSize());
        Buffer scratch = be.allocate(DType.F32, 2 * wide);
        if (!backward) return new Workspace(null, null, null, null, null, null, null, null, scratch);
        long i = (long) rows * c.intermediateSize();
        return new Workspace(
                be.allocateActivations((long) rows * c.qDim()), be.allocateActivations((long) rows * c.kvDim()),
                be.allocateActivations((long) rows * c.kvDim()), be.allocateActivations((long) rows * c.qDim()),
                be.allocateActivations(2 * i), be.allocateActivations(i),
                be.allocate(DType.F32, (long) rows * c.hiddenSize()),
                be.allocateActivations((long) rows * Math.max(1, totalRank)), scratch);
    }
}
