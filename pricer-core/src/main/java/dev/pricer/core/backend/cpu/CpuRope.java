package dev.pricer.core.backend.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.pricer.core.backend.cpu.Vec.F;
import static dev.pricer.core.backend.cpu.Vec.get;
import static dev.pricer.core.backend.cpu.Vec.load;
import static dev.pricer.core.backend.cpu.Vec.set;
import static dev.pricer.core.backend.cpu.Vec.store;

/** Rotate-half RoPE (HF Llama): the first and second halves of each head form the pairs that rotate. */
final class CpuRope {

    private CpuRope() {
    }

    static void apply(MemorySegment x, MemorySegment positions, MemorySegment cos, MemorySegment sin,
                      int rows, int heads, int headDim, boolean inverse) {
        int half = headDim / 2;
        float sign = inverse ? -1f : 1f;
        Vec.blocks(rows, 4, (start, end) -> {
            for (int r = (int) start; r < end; r++) {
                long table = (long) Vec.getInt(positions, r) * half;
                for (int h = 0; h < heads; h++) {
                    long base = ((long) r * heads + h) * headDim;
                    int i = 0;
                    for (int bound = F.loopBound(half); i < bound; i += F.length()) {
                        FloatVector x1 = load(x, base + i), x2 = load(x, base + half + i);
                        FloatVector c = load(cos, table + i), s = load(sin, table + i).mul(sign);
                        store(x1.mul(c).sub(x2.mul(s)), x, base + i);
                        store(x2.mul(c).add(x1.mul(s)), x, base + half + i);
                    }
                    for (; i < half; i++) {
                        float x1 = get(x, base + i), x2 = get(x, base + half + i);
                        float c = get(cos, table + i), s = sign * get(sin, table + i);
                        set(x, base + i, x1 * c - x2 * s);
                        set(x, base + half + i, x2 * c + x1 * s);
                    }
                }
            }
        });
    }
}
