package dev.pricer.core.backend.cpu;

import dev.pricer.core.backend.AdamW;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static dev.pricer.core.backend.cpu.Vec.F;
import static dev.pricer.core.backend.cpu.Vec.get;
import static dev.pricer.core.backend.cpu.Vec.load;
import static dev.pricer.core.backend.cpu.Vec.set;
import static dev.pricer.core.backend.cpu.Vec.store;

/**
 * Elementwise kernels: vectorized within a block, blocks spread over the cores. The scalar tails compute each
 * element with the same operations in the same order as the vector lanes, so its bits do not depend on where it falls.
 */
final class CpuElementwise {

    private static final int GRAIN = 1 << 15;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

    private CpuElementwise() {
    }

    static void axpy(float alpha, MemorySegment x, MemorySegment y, long n) {
        Vec.blocks(n, GRAIN, (s, e) -> Vec.axpy(alpha, x, s, y, s, (int) (e - s)));
    }

    static void scale(MemorySegment x, float alpha, long n) {
        Vec.blocks(n, GRAIN, (s, e) -> Vec.scale(x, s, alpha, (int) (e - s)));
    }

    /** Summed per block of {@value #GRAIN}, then over the blocks in order: the same bits for any thread count. */
    static double sumOfSquares(MemorySegment x, long n) {
        int blocks = (int) Math.max(1, (n + GRAIN - 1) / GRAIN);
        double[] partial = new double[blocks];
        CpuThreads.run(blocks, b -> {
            long s = (long) b * GRAIN, e = Math.min(n, s + GRAIN);
            FloatVector acc = FloatVector.zero(F);
            long i = s;
            for (long bound = s + F.loopBound((int) (e - s)); i < bound; i += F.length()) {
                FloatVector v = load(x, i);
                acc = v.fma(v, acc);
            }
            double sum = Vec.sum(acc);
            for (; i < e; i++) sum += (double) get(x, i) * get(x, i);
            partial[b] = sum;
        }, x);
        double total = 0;
        for (double p : partial) total += p;
        return total;
    }

    static void swigluForward(MemorySegment gate, MemorySegment up, MemorySegment out, long n) {
        Vec.blocks(n, GRAIN, (s, e) -> {
            long i = s;
            for (long bound = s + F.loopBound((int) (e - s)); i < bound; i += F.length()) {
                FloatVector g = load(gate, i);
                FloatVector sig = FloatVector.broadcast(F, 1f).div(Exp.exp(g.neg()).add(1f));
                store(g.mul(sig).mul(load(up, i)), out, i);
            }
            for (; i < e; i++) {
                float g = get(gate, i);
                float sig = 1f / (1f + Exp.exp(-g));
                set(out, i, g * sig * get(up, i));
            }
        });
    }

    /**
     * d/dg [g·σ(g)] = σ(g)·(1 + g·(1 − σ(g))). Element i of the {@code n} inputs (rows of {@code cols}) goes to
     * row {@code i / cols} of dgate and dup, whose rows are {@code ld} elements apart ({@code ld = cols}: contiguous).
     * A row's elements come out the same whether a vector lane or the scalar tail computes them.
     */
    static void swigluBackward(MemorySegment dout, MemorySegment gate, MemorySegment up, MemorySegment dgate, MemorySegment dup,
                               long n, long cols, long ld) {
        Vec.blocks(n, GRAIN, (s, e) -> {
            for (long start = s; start < e; ) {
                long end = Math.min(e, (start / cols + 1) * cols), shift = start / cols * (ld - cols);
                long i = start;
                for (long bound = start + F.loopBound((int) (end - start)); i < bound; i += F.length()) {
                    FloatVector g = load(gate, i), u = load(up, i), d = load(dout, i);
                    FloatVector sig = FloatVector.broadcast(F, 1f).div(Exp.exp(g.neg()).add(1f));
                    FloatVector silu = g.mul(sig);
                    store(d.mul(silu), dup, i + shift);
                    FloatVector dsilu = sig.mul(g.mul(sig.neg().add(1f)).add(1f));
                    store(d.mul(u).mul(dsilu), dgate, i + shift);
                }
                for (; i < end; i++) {
                    float g = get(gate, i), u = get(up, i), d = get(dout, i);
                    float sig = 1f / (1f + Exp.exp(-g));
                    set(dup, i + shift, d * (g * sig));
                    set(dgate, i + shift, d * u * (sig * (g * (1f - sig) + 1f)));
                }
                start = end;
            }
        });
    }

    /**
     * A counter-based hash (the finaliser of MurmurHash3) of the element index and the seed: the same mask comes
     * back for the same seed, on any backend, without storing it.
     */
    static int hash(int index, int seedLo, int seedHi) {
        int h = (index ^ seedHi) * 0x9E3779B1 + seedLo;
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        h ^= h >>> 16;
        return h;
    }

    static void dropout(MemorySegment x, MemorySegment out, float p, long seed, long n) {
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("dropout over more than 2^31 elements");
        int seedLo = (int) seed, seedHi = (int) (seed >>> 32);
        // keep when the top 24 bits of the hash are at or above p·2^24
        int threshold = (int) (p * (1 << 24));
        float keepScale = 1f / (1f - p);
        Vec.blocks(n, GRAIN, (s, e) -> {
            int i = (int) s;
            IntVector lane = IntVector.fromArray(I, iota(), 0);
            for (int bound = (int) s + F.loopBound((int) (e - s)); i < bound; i += F.length()) {
                IntVector h = lane.add(i).lanewise(VectorOperators.XOR, seedHi).mul(0x9E3779B1).add(seedLo);
                h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16)).mul(0x85EBCA6B);
                h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 13)).mul(0xC2B2AE35);
                h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 16));
                VectorMask<Integer> keep = h.lanewise(VectorOperators.LSHR, 8).compare(VectorOperators.GE, threshold);
                FloatVector v = load(x, i).mul(keepScale);
                store(v.blend(0f, keep.cast(F).not()), out, i);
            }
            for (; i < e; i++) {
                boolean kept = (hash(i, seedLo, seedHi) >>> 8) >= threshold;
                set(out, i, kept ? get(x, i) * keepScale : 0f);
            }
        });
    }

    private static int[] iota() {
        int[] a = new int[I.length()];
        for (int i = 0; i < a.length; i++) a[i] = i;
        return a;
    }

    /** torch.optim.AdamW's update, term for term, so that results match it to float rounding. */
    static void adamw(MemorySegment param, MemorySegment grad, MemorySegment m, MemorySegment v, AdamW h, long n) {
        float decay = 1f - h.lr() * h.weightDecay();
        float bc1 = 1f - (float) StrictMath.pow(h.beta1(), h.step());
        float bc2Sqrt = (float) Math.sqrt(1.0 - StrictMath.pow(h.beta2(), h.step()));
        float stepSize = h.lr() / bc1;
        float b1 = h.beta1(), b2 = h.beta2(), eps = h.eps();
        Vec.blocks(n, GRAIN, (s, e) -> {
            long i = s;
            for (long bound = s + F.loopBound((int) (e - s)); i < bound; i += F.length()) {
                FloatVector g = load(grad, i);
                FloatVector mi = load(m, i);
                mi = mi.add(g.sub(mi).mul(1f - b1));
                FloatVector vi = load(v, i).mul(b2).add(g.mul(g).mul(1f - b2));
                FloatVector denom = vi.sqrt().div(bc2Sqrt).add(eps);
                FloatVector p = load(param, i).mul(decay);
                store(p.sub(mi.div(denom).mul(stepSize)), param, i);
                store(mi, m, i);
                store(vi, v, i);
            }
            for (; i < e; i++) {
                float g = get(grad, i);
                float mi = get(m, i);
                mi = mi + (g - mi) * (1f - b1);
                float vi = get(v, i) * b2 + g * g * (1f - b2);
                float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
                set(param, i, get(param, i) * decay - mi / denom * stepSize);
                set(m, i, mi);
                set(v, i, vi);
            }
        });
    }
}
