package dev.pricer.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

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
     * With y = w·x·r and r = (mean(x²)+eps)^(-1/2): dx = r·(w·dy) − x·r³·Σ(w·dy·x)/dim, dw = Σ_rows dy·x·r.
     * Weight gradients are summed per block of rows, then added under a lock, so no two tasks race on dw.
     */
    static void backward(MemorySegment dout, MemorySegment x, MemorySegment weight, MemorySegment rstd,
                         MemorySegment dx, MemorySegment dweight, int rows, int dim) {
        int tasks = (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        IntStream.range(0, tasks).parallel().forEach(t -> {
            float[] dw = dweight == null ? null : new float[dim];
            for (int r = t * ROWS_PER_TASK; r < Math.min(rows, (t + 1) * ROWS_PER_TASK); r++) {
                long row = (long) r * dim;
                float inv = get(rstd, r);
                FloatVector acc = FloatVector.zero(F);
                int i = 0;
                for (int bound = F.loopBound(dim); i < bound; i += F.length()) {
                    acc = load(dout, row + i).mul(load(weight, i)).fma(load(x, row + i), acc);
                }
                float dot = acc.reduceLanes(VectorOperators.ADD);
                for (; i < dim; i++) dot += get(dout, row + i) * get(weight, i) * get(x, row + i);
                float c = dot * inv * inv * inv / dim;
                i = 0;
                for (int bound = F.loopBound(dim); i < bound; i += F.length()) {
                    FloatVector g = load(dout, row + i).mul(load(weight, i)).mul(inv).sub(load(x, row + i).mul(c));
                    store(load(dx, row + i).add(g), dx, row + i);
                }
                for (; i < dim; i++) {
                    set(dx, row + i, get(dx, row + i) + get(dout, row + i) * get(weight, i) * inv - get(x, row + i) * c);
                }
                if (dw != null) {
                    int j = 0;
                    for (int bound = F.loopBound(dim); j < bound; j += F.length()) {
                        FloatVector.fromArray(F, dw, j).add(load(dout, row + j).mul(load(x, row + j)).mul(inv)).intoArray(dw, j);
                    }
                    for (; j < dim; j++) dw[j] += get(dout, row + j) * get(x, row + j) * inv;
                }
            }
            if (dw != null) {
                synchronized (dweight) {
                    for (int j = 0; j < dim; j++) set(dweight, j, get(dweight, j) + dw[j]);
                }
            }
        });
    }
}
