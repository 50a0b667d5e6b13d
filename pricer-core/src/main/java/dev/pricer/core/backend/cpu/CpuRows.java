package dev.pricer.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.pricer.core.backend.cpu.Vec.F;
import static dev.pricer.core.backend.cpu.Vec.get;
import static dev.pricer.core.backend.cpu.Vec.load;
import static dev.pricer.core.backend.cpu.Vec.set;
import static dev.pricer.core.backend.cpu.Vec.store;

/** Row gathers and scatters (embeddings, label positions) and cross-entropy over rows of logits. */
final class CpuRows {

    /** Columns per scatter task: tasks own disjoint columns, so repeated row indices never race. */
    private static final int SCATTER_COLUMNS = 512;

    private CpuRows() {
    }

    private static int index(MemorySegment indices, int r, long tableRows) {
        int ix = Vec.getInt(indices, r);
        if (ix < 0 || ix >= tableRows) throw new IndexOutOfBoundsException("row index " + ix + " at " + r + " outside [0, " + tableRows + ")");
        return ix;
    }

    static void gather(MemorySegment table, MemorySegment indices, MemorySegment out, int rows, int dim) {
        long tableRows = table.byteSize() / Float.BYTES / dim;
        long rowBytes = (long) dim * Float.BYTES;
        Vec.blocks(rows, 8, (s, e) -> {
            for (int r = (int) s; r < e; r++) {
                MemorySegment.copy(table, index(indices, r, tableRows) * rowBytes, out, r * rowBytes, rowBytes);
            }
        });
    }

    static void scatterAdd(MemorySegment src, MemorySegment indices, MemorySegment table, int rows, int dim) {
        long tableRows = table.byteSize() / Float.BYTES / dim;
        for (int r = 0; r < rows; r++) index(indices, r, tableRows);
        Vec.blocks(dim, SCATTER_COLUMNS, (c0, c1) -> {
            for (int r = 0; r < rows; r++) {
                long dst = (long) Vec.getInt(indices, r) * dim;
                Vec.axpy(1f, src, (long) r * dim + c0, table, dst + c0, (int) (c1 - c0));
            }
        });
    }

    /** Rows in parallel; their losses are added in row order, so the sum does not depend on scheduling. */
    static double crossEntropy(MemorySegment logits, MemorySegment targets, int rows, int vocab, float gradScale) {
        double[] losses = new double[rows];
        CpuThreads.run(rows, r -> {
            long row = (long) r * vocab;
            int target = Vec.getInt(targets, r);
            if (target < 0 || target >= vocab) throw new IndexOutOfBoundsException("target " + target + " at row " + r + " outside vocabulary of " + vocab);
            FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            int i = 0;
            for (int bound = F.loopBound(vocab); i < bound; i += F.length()) mv = mv.max(load(logits, row + i));
            float max = mv.reduceLanes(VectorOperators.MAX);
            for (; i < vocab; i++) max = Math.max(max, get(logits, row + i));
            FloatVector sv = FloatVector.zero(F);
            i = 0;
            for (int bound = F.loopBound(vocab); i < bound; i += F.length()) sv = sv.add(Exp.exp(load(logits, row + i).sub(max)));
            double sum = Vec.sum(sv);
            for (; i < vocab; i++) sum += Exp.exp(get(logits, row + i) - max);
            double lse = max + StrictMath.log(sum);
            losses[r] = lse - get(logits, row + target);
            if (gradScale != 0f) {
                float shift = (float) lse;
                i = 0;
                for (int bound = F.loopBound(vocab); i < bound; i += F.length()) {
                    store(Exp.exp(load(logits, row + i).sub(shift)).mul(gradScale), logits, row + i);
                }
                for (; i < vocab; i++) set(logits, row + i, Exp.exp(get(logits, row + i) - shift) * gradScale);
                set(logits, row + target, get(logits, row + target) - gradScale);
            }
        }, logits, targets);
        double loss = 0;
        for (double l : losses) loss += l;
        return loss;
    }
}
