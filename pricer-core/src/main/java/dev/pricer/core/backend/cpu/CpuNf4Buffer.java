package dev.pricer.core.backend.cpu;

import dev.pricer.core.backend.Nf4Buffer;
import dev.pricer.core.quant.Nf4Weight;

import java.util.Arrays;

/** An NF4 weight on the CPU: the weight itself, its packed codes possibly a view of a mapped checkpoint. */
record CpuNf4Buffer(Nf4Weight weight) implements Nf4Buffer {

    CpuNf4Buffer {
        long[] shape = weight.shape();
        if (shape.length != 2 || shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("an NF4 matrix must be 2-D with int-sized dimensions, got shape " + Arrays.toString(shape));
        }
    }

    @Override
    public long rows() {
        return weight.shape()[0];
    }

    @Override
    public long columns() {
        return weight.shape()[1];
    }

    /** The weight behind a buffer that must have come from the CPU backend, checked against the product's {@code [rows, columns]}. */
    static Nf4Weight of(Nf4Buffer buffer, int rows, int columns) {
        if (!(buffer instanceof CpuNf4Buffer cpu)) throw new IllegalArgumentException("not a CPU NF4 buffer: " + buffer.getClass().getName());
        if (cpu.rows() != rows || cpu.columns() != columns) {
            throw new IllegalArgumentException("NF4 weight of shape " + Arrays.toString(cpu.weight.shape()) + " used as [" + rows + ", " + columns + "]");
        }
        return cpu.weight;
    }
}
