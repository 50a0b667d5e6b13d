package dev.pricer.core.model;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.Nf4Buffer;

/** The base matrix {@code W [out, in]} of a {@link Linear}: float (possibly trainable), or frozen NF4 (QLoRA). */
sealed interface BaseWeight {

    /** y[rows×out] = x·Wᵀ. */
    void forward(Backend be, Buffer x, Buffer y, int rows, int out, int in);

    /** dx[rows×in] (+)= dy·W. */
    void backwardInput(Backend be, Buffer dy, Buffer dx, int rows, int out, int in, boolean accumulate);

    record Dense(Buffer value) implements BaseWeight {
        @Override
        public void forward(Backend be, Buffer x, Buffer y, int rows, int out, int in) {
            be.matmulABt(x, value, y, rows, out, in, false);
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
        public void backwardInput(Backend be, Buffer dy, Buffer dx, int rows, int out, int in, boolean accumulate) {
            be.matmulNf4AB(dy, value, dx, rows, in, out, accumulate);
        }
    }
}
