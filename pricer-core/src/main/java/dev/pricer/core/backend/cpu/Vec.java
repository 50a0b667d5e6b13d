package dev.pricer.core.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/** Vector API building blocks shared by the CPU kernels; offsets are in floats, not bytes. */
final class Vec {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.nativeOrder());
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.nativeOrder());
    static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Lane i of {@code v.rearrange(ROTATE_k)} is lane (i + k) mod n of v; the folds of {@link #sum}. */
    private static final VectorShuffle<Float> ROTATE_8 = VectorShuffle.iota(F, 8, 1, true), ROTATE_4 = VectorShuffle.iota(F, 4, 1, true),
            ROTATE_2 = VectorShuffle.iota(F, 2, 1, true), ROTATE_1 = VectorShuffle.iota(F, 1, 1, true);

    private Vec() {
    }

    static FloatVector load(MemorySegment s, long index) {
        return FloatVector.fromMemorySegment(F, s, index * Float.BYTES, ORDER);
    }

    static void store(FloatVector v, MemorySegment s, long index) {
        v.intoMemorySegment(s, index * Float.BYTES, ORDER);
    }

    static float get(MemorySegment s, long index) {
        return s.getAtIndex(FLOAT, index);
    }

    static void set(MemorySegment s, long index, float value) {
        s.setAtIndex(FLOAT, index, value);
    }

    static int getInt(MemorySegment s, long index) {
        return s.getAtIndex(INT, index);
    }

    static float dot(MemorySegment x, long xi, MemorySegment y, long yi, int len) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) acc = load(x, xi + i).fma(load(y, yi + i), acc);
        float sum = sum(acc);
        for (; i < len; i++) sum += get(x, xi + i) * get(y, yi + i);
        return sum;
    }

    /**
     * The sum of the lanes in one fixed order on every JIT tier: lane i adds lane i + n/2, then i + n/4, ...
     * ({@code reduceLanes(ADD)} sums in lane order when interpreted and as a tree when compiled, which rounds
     * differently).
     */
    static float sum(FloatVector v) {
        if (v.species() != F) {
            for (int half = v.length() / 2; half > 0; half /= 2) v = v.add(v.rearrange(VectorShuffle.iota(v.species(), half, 1, true)));
            return v.lane(0);
        }
        if (F.length() >= 16) v = v.add(v.rearrange(ROTATE_8));
        if (F.length() >= 8) v = v.add(v.rearrange(ROTATE_4));
        if (F.length() >= 4) v = v.add(v.rearrange(ROTATE_2));
        if (F.length() >= 2) v = v.add(v.rearrange(ROTATE_1));
        return v.lane(0);
    }

    /** y += alpha · x */
    static void axpy(float alpha, MemorySegment x, long xi, MemorySegment y, long yi, int len) {
        FloatVector a = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) store(load(x, xi + i).fma(a, load(y, yi + i)), y, yi + i);
        for (; i < len; i++) set(y, yi + i, get(y, yi + i) + alpha * get(x, xi + i));
    }

    static void scale(MemorySegment x, long xi, float alpha, int len) {
        int i = 0;
        for (int bound = F.loopBound(len); i < bound; i += F.length()) store(load(x, xi + i).mul(alpha), x, xi + i);
        for (; i < len; i++) set(x, xi + i, get(x, xi + i) * alpha);
    }

    static void zero(MemorySegment x, long xi, int len) {
        x.asSlice(xi * Float.BYTES, (long) len * Float.BYTES).fill((byte) 0);
    }

    /** Runs {@code body} over {@code [0, n)} in parallel blocks of about {@code grain} elements: body(start, end). */
    static void blocks(long n, int grain, BlockBody body) {
        int count = (int) Math.max(1, (n + grain - 1) / grain);
        IntConsumer run = b -> body.run((long) b * grain, Math.min(n, (long) (b + 1) * grain));
        if (count == 1) run.accept(0);
        else IntStream.range(0, count).parallel().forEach(run);
    }

    @FunctionalInterface
    interface BlockBody {
        void run(long start, long end);
    }
}
