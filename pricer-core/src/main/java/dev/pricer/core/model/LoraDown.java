package dev.pricer.core.model;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;

/**
 * The LoRA down-projection {@code A [rank, in]} of one projection, or of several that read the same input, their
 * A matrices stacked as consecutive rows of one buffer (q, k and v): one product then serves them all. The
 * intermediate {@code u = s·drop(x)·Aᵀ} and its gradient are kept transposed, {@code [rank, rows]}, so each
 * member's share is a contiguous block of their rows. Dropout gives each projection its own mask, so a pass with
 * dropout runs each member on its own ({@link DecoderLayer}).
 */
record LoraDown(Buffer a, Buffer gradA, int rank, int in, float scaling, float dropout) {

    /** {@code ut [rank, rows] = s·A·drop(x)ᵀ}. {@code scratch} holds at least {@code rows·in} floats. */
    void forward(Backend be, Buffer x, Buffer ut, int rows, Linear.Dropout mask, Buffer scratch) {
        be.matmulABtScaled(a, dropped(be, x, rows, mask, scratch), ut, rank, rows, in, scaling);
    }

    /**
     * From {@code dut [rank, rows]}, the gradient of {@code drop(x)·Aᵀ} ({@code s·dy·B}, transposed) as the members'
     * up-projections left it: {@code gradA += dut·drop(x)}, {@code dx += drop(dutᵀ·A)}. {@code scratch} holds two blocks of {@code rows·in}.
     */
    void backward(Backend be, Buffer dut, Buffer x, Buffer dx, int rows, Linear.Dropout mask, Buffer scratch) {
        be.matmulAB(dut, dropped(be, x, rows, mask, scratch), gradA, rank, in, rows, true);
        if (mask.active(dropout)) {
            Buffer dxDropped = scratch.slice((long) rows * in, (long) rows * in);
            be.matmulAtB(dut, a, dxDropped, rows, in, rank, false);
            Buffer dxDirect = scratch.slice(0, (long) rows * in);
            be.dropout(dxDropped, dxDirect, dropout, mask.seed());
            be.axpy(1f, dxDirect, dx);
        } else {
            be.matmulAtB(dut, a, dx, rows, in, rank, true);
        }
    }

    private Buffer dropped(Backend be, Buffer x, int rows, Linear.Dropout mask, Buffer scratch) {
        if (!mask.active(dropout)) return x;
        Buffer out = scratch.slice(0, (long) rows * in);
        be.dropout(x, out, dropout, mask.seed());
        return out;
    }
}
