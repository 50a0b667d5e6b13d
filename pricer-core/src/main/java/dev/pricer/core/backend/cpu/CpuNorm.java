package dev.pricer.core.backend.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;

import static dev.pricer.core.backend.cpu.Vec.F;
import static dev.pricer.core.backend.cpu.Vec.get;
import static dev.pricer.core.backend.cpu.Vec.load;
import static dev.pricer.core.backend.cpu.Vec.set;
import static dev.pricer.core.backend.cpu.Vec.store;

/** RMSNorm forward and backward, parallel over rows, vectorized along a row. */
final class CpuNorm {

    private static final int ROWS_PER_TASK = 16;
    /** Columns of dw per task: 1 KiB of it stays in L1 while the rows stream past. */
    private static final int WEIGHT_COLUMNS_PER_TASK = 256;

    private CpuNorm() {
    }

    static void forward(MemorySegment x, MemorySegment weight, MemorySegment out, MemorySegment rstd, int rows, int dim, float eps) {
        IntStream.range(0, rows).parallel().forEach(r -> {
            long row = (long) r * dim;
            float ms = Vec.dot(x, row, x, row, dim) / dim;
            float inv = (float) (1.0 / Math.sqrt(ms + eps));
            set(rstd, r, inv);
            int i = 0;
            for (int bound = F.loopBound(dim); i < bound; i += F.length()) {
                store(load(x, row + i).mul(inv).mul(load(weight, i)), out, row + i);
            }
            for (; i < dim; i++) set(out, row + i, get(x, row + i) * inv * get(weight, i));
        });
    }

    /**
     * With y = w·x·r and r = (mean(x²)+eps)^(-1/2): dx = dResidual + (r·(w·dy) − x·r³·Σ(w·dy·x)/dim), dw = Σ_rows dy·x·r.
     * {@code dResidual} may be null (nothing to add) or dx itself. dx goes by blocks of rows; dw by blocks of
     * columns, each summing its columns over the rows in row order, so no two tasks write the same element and
     * the sums do not depend on how tasks are scheduled.
     */
    static void backward(MemorySegment dout, MemorySegment x, MemorySegment weight, MemorySegment rstd,
                         MemorySegment dResidual, MemorySegment dx, MemorySegment dweight, int rows, int dim) {
        Vec.blocks(rows, ROWS_PER_TASK, (r0, r1) -> {
            for (int r = (int) r0; r < r1; r++) {
                long row = (long) r * dim;
                float inv = get(rstd, r);
                FloatVector acc = FloatVector.zero(F);
                int i = 0;
                for (int bound = F.loopBound(dim); i < bound; i += F.length()) {
                    acc = load(dout, row + i).mul(load(weight, i)).fma(load(x, row + i), acc);
                }
                float dot = Vec.sum(acc);
                for (; i < dim; i++) dot += get(dout, row + i) * get(weight, i) * get(x, row + i);
                float c = dot * inv * inv * inv / dim;
                i = 0;
                for (int bound = F.loopBound(dim); i < bound; i += F.length()) {
                    FloatVector g = load(dout, row + i).mul(load(weight, i)).mul(inv).sub(load(x, row + i).mul(c));
                    store(dResidual == null ? g : load(dResidual, row + i).add(g), dx, row + i);
                }
                for (; i < dim; i++) {
                    float g = get(dout, row + i) * get(weight, i) * inv - get(x, row + i) * c;
                    set(dx, row + i, dResidual == null ? g : get(dResidual, row + i) + g);
                }
            }
        });
        if (dweight == null) return;
        Vec.blocks(dim, WEIGHT_COLUMNS_PER_TASK, (c0, c1) -> {
            int width = (int) (c1 - c0);
            for (int r = 0; r < rows; r++) {
                long row = (long) r * dim + c0;
                float inv = get(rstd, r);
                int j = 0;
                for (int bound = F.loopBound(width); j < bound; j += F.length()) {
                    store(load(dout, row + j).mul(load(x, row + j)).mul(inv).add(load(dweight, c0 + j)), dweight, c0 + j);
                }
                for (; j < width; j++) set(dweight, c0 + j, get(dweight, c0 + j) + get(dout, row + j) * get(x, row + j) * inv);
            }
        });
    }
}
