package dev.pricer.core.model;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.Nf4Buffer;

/** The base matrix {@code W [out, in]} of a {@link Linear}: float (possibly trainable), or frozen NF4 (QLoRA). */
sealed interface BaseWeight {

    /** y[rows×out] = x·Wᵀ. */
    void forward(Backend be, Buffer x, Buffer y, int rows, int out, int in);

    /**
     * y[rows×out] = (x·Wᵀ + u·vᵀ) + residual: the forward of a layer on the residual stream, with its LoRA update
     * ({@code u} [rows×r] and {@code v} [out×r], null without one); see {@link Backend#matmulABtPlusResidual}.
     */
    void forwardPlusResidual(Backend be, Buffer x, Buffer u, Buffer v, Buffer residual, Buffer y, int rows, int out, int in, int r);

    /** dx[rows×in] (+)= dy·W. */
    void backwardInput(Backend be, Buffer dy, Buffer dx, int rows, int out, int in, boolean accumulate);

    record Dense(Buffer value) implements BaseWeight {
        @Override
        public void forward(Backend be, Buffer x, Buffer y, int rows, int out, int in) {
            be.matmulABt(x, value, y, rows, out, in, false);
        }

        @Override
        public void forwardPlusResidual(Backend be, Buffer x, Buffer u, Buffer v, Buffer residual, Buffer y, int rows, int out, int in, int r) {
            be.matmulABtPlusResidual(x, value, u, v, residual, y, rows, out, in, r);
        }

        @Override
        public void backwardInput(Backend be, Buffer dy, Buffer dx, int rows, int out, int in, boolean accumulate) {
            be.matmulAB(dy, value, dx, rows, in, out, accumulate);
        }
    }

    record Nf4(Nf4Buffer value) implements BaseWeight {
        @Override
        public void forward(Backend be, Buffer x, Buffer y, int rows, int out, int in) {
            be.matmulNf4ABt(x, value, y, rows, out, in, false);
        }

        @Override
        public void forwardPlusResidual(Backend be, Buffer x, Buffer u, Buffer v, Buffer residual, Buffer y, int rows, int out, int in, int r) {
            be.matmulNf4ABtPlusResidual(x, value, u, v, residual, y, rows, out, in, r);
        }

        @Override
        public void backwardInput(Backend be, Buffer dy, Buffer dx, int rows, int out, int in, boolean accumulate) {
            be.matmulNf4AB(dy, value, dx, rows, in, out, accumulate);
        }
    }
}
