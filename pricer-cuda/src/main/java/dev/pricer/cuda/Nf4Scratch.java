package dev.pricer.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Where NF4 weights are dequantized for their GEMMs. As in bitsandbytes, a product dequantizes its weight right
 * before its GEMM, so the model never exists dequantized as a whole: scratch holds one weight, or one more for each
 * weight dequantized ahead.
 *
 * <p>Ahead: a training or generation step runs the same products in the same order every time, so which weights the
 * products after this one need is known from the times before. The next {@code depth} weights are dequantized into
 * the other slots on the side stream ({@link Cuda#onSideStream}), where they run beside the main stream's work instead
 * of alone. A small weight starts when the product's GEMM ends: the work between GEMMs (LoRA products, attention,
 * norms, element-wise kernels) leaves memory bandwidth and multiprocessors idle, and hides its dequantization. The
 * largest weights (at least half the size of the largest seen: a Llama's MLP, where no such work lies between the
 * GEMMs) start with the GEMM, which is then planned for all but {@code besideMultiprocessors} SMs: cuBLASLt's first
 * choices fill every SM's registers and shared memory, so the dequantization would otherwise only run once the GEMM
 * is done. Started with the GEMM, small weights measured slower (BENCHMARKS.md). A wrong guess costs
 * one dequantization: the product waits for it, then dequantizes its own weight. So a successor is guessed only once
 * the last two times agreed on it: with gradient checkpointing a layer's last product is followed by the next layer's
 * first in the forward pass and by its own input gradient in the recompute, and a guess from the last time alone would
 * be wrong every time.
 *
 * <p>Predictions hold the weights weakly, so scratch keeps no dropped model's weights alive; slots hold theirs until
 * overwritten.
 */
final class Nf4Scratch {

    /** A weight dequantized to type, for a product with it as Wᵀ (a forward product) or as W (an input gradient). */
    private record Use(CudaNf4Buffer weight, ElementType type, boolean transposed) {
        boolean sameValues(Use other) {
            return other != null && other.weight == weight && other.type == type;
        }

        long bytes() {
            return weight.elementCount() * type.bytes();
        }

        /** Where this use's successor is kept in {@link #successors}' arrays. */
        int direction() {
            return transposed ? 1 : 0;
        }
    }

    /** Enqueues a product's GEMM with the weight's values, planned for that many SMs (0: the whole GPU). */
    @FunctionalInterface
    interface Product {
        void enqueue(DeviceBuffer weight, int multiprocessors);
    }

    /**
     * Dequantizations so far; of the weights dequantized ahead, how many a product then used and how many not; and how
     * many GEMMs ran with a dequantization beside them.
     */
    record Counts(long dequantized, long guessedRight, long guessedWrong, long gemmsBeside) {
    }

    /** The use that followed one last time; confirmed if it also followed the time before. */
    private record Next(WeakReference<CudaNf4Buffer> weight, ElementType type, boolean transposed, boolean confirmed) {
        Use use() {
            CudaNf4Buffer w = weight.get();
            return w == null ? null : new Use(w, type, transposed);
        }
    }

    /** Scratch for one weight's values, and what is known of its state. */
    private static final class Slot {
        DeviceBuffer memory;
        /** The use whose values it holds or is being given; null when none. */
        Use held;
        /** Reached when the side stream has written it; pending while a write there may still run. */
        MemorySegment written;
        boolean pending;
        /** Whether its weight was dequantized ahead and no product has taken it yet. */
        boolean guessed;
        /** When it was last given a weight: the oldest is overwritten first. */
        long given;
    }

    private final Cuda cuda;
    private final Kernels kernels;
    private final DeviceBuffer codebook;
    /** How many weights are dequantized ahead: 0 for none, so one slot. */
    private final int depth;
    /** The SMs a GEMM leaves to a dequantization started beside it; 0: none starts beside a GEMM. */
    private final int besideMultiprocessors;
    private final Slot[] slots;
    private long clock, dequantized, guessedRight, guessedWrong, gemmsBeside;
    /** The bytes of the largest weight's values taken so far. */
    private long largest;
    /** Recorded on the main stream where dequantizations ahead may start; the side stream waits for it at once. */
    private MemorySegment startAhead;
    /** The slot of the weight last taken. */
    private int active;
    private Use previous;
    /** Per weight, the use that followed its forward use [1] and its input-gradient use [0] last time. */
    private final Map<CudaNf4Buffer, Next[]> successors = new WeakHashMap<>();

    Nf4Scratch(Cuda cuda, Kernels kernels, DeviceBuffer codebook, int depth, int besideMultiprocessors) {
        if (depth < 0) throw new IllegalArgumentException("NF4 weights dequantized ahead: " + depth + " is negative");
        if (besideMultiprocessors < 0 || besideMultiprocessors >= cuda.multiprocessors()) {
            throw new IllegalArgumentException("SMs left to an NF4 dequantization beside a GEMM: " + besideMultiprocessors
                    + " is not from 0 to " + (cuda.multiprocessors() - 1));
        }
        this.cuda = cuda;
        this.kernels = kernels;
        this.codebook = codebook;
        this.depth = depth;
        this.besideMultiprocessors = besideMultiprocessors;
        slots = new Slot[depth + 1];
        for (int i = 0; i < slots.length; i++) slots[i] = new Slot();
    }

    /**
     * Enqueues the product with the weight's values in type t, and the dequantizations of the weights predicted to
     * come next: the largest beside the product's GEMM, the others after it.
     */
    void multiply(CudaNf4Buffer weight, ElementType t, boolean transposed, Product product) {
        DeviceBuffer values = take(weight, t, transposed);
        List<Runnable> beside = new ArrayList<>(), after = new ArrayList<>();
        boolean[] keep = new boolean[slots.length];
        keep[active] = true;
        Use guess = previous;
        for (int i = 0; i < depth && (guess = successor(guess)) != null; i++) {
            int slot = holding(guess);
            if (slot >= 0) {
                keep[slot] = true;
                continue;
            }
            slot = oldest(keep);
            keep[slot] = true;
            claim(slot, guess);
            boolean withProduct = besideMultiprocessors > 0 && 2 * guess.bytes() >= largest;
            (withProduct ? beside : after).add(ahead(guess, slot));
        }
        // The main stream's work before the event includes every reader of the claimed slots but this product's GEMM,
        // which reads none of them.
        if (!beside.isEmpty()) {
            enqueueAhead(beside);
            gemmsBeside++;
        }
        product.enqueue(values, beside.isEmpty() ? 0 : cuda.multiprocessors() - besideMultiprocessors);
        if (!after.isEmpty()) enqueueAhead(after);
    }

    /** The side stream dequantizes once the main stream's work enqueued so far is done. */
    private void enqueueAhead(List<Runnable> dequantizations) {
        if (startAhead == null) startAhead = cuda.newEvent();
        cuda.record(startAhead);
        cuda.onSideStream(() -> {
            cuda.await(startAhead);
            dequantizations.forEach(Runnable::run);
        });
    }

    /** Frees the slots and events, once the work of both streams is done. */
    void close() {
        for (Slot s : slots) {
            if (s.memory != null) cuda.free(s.memory);
            if (s.written != null) cuda.destroyEvent(s.written);
            s.memory = null;
            s.written = null;
            s.held = null;
            s.pending = false;
        }
        if (startAhead != null) cuda.destroyEvent(startAhead);
        startAhead = null;
    }

    /** The slot given the guess, pending and guessed; returns its dequantization, for the side stream. */
    private Runnable ahead(Use guess, int slot) {
        Slot into = slots[slot];
        if (into.written == null) into.written = cuda.newEvent();
        into.pending = true;
        into.guessed = true;
        give(slot, guess);
        return () -> {
            enqueueDequantization(guess, slot);
            cuda.record(into.written);
        };
    }

    /**
     * The weight's values in type t, ready for a GEMM enqueued next on the main stream; valid until the next call. Enqueues
     * no dequantization ahead ({@link #multiply} does).
     */
    DeviceBuffer take(CudaNf4Buffer weight, ElementType t, boolean transposed) {
        Use use = new Use(weight, t, transposed);
        if (previous != null) {
            Next[] next = successors.computeIfAbsent(previous.weight, w -> new Next[2]);
            Next last = next[previous.direction()];
            next[previous.direction()] = new Next(new WeakReference<>(weight), t, transposed, last != null && use.equals(last.use()));
        }
        previous = use;
        largest = Math.max(largest, use.bytes());
        int slot = holding(use);
        if (slot >= 0) {
            settle(slot);
            if (slots[slot].guessed) guessedRight++;
            slots[slot].guessed = false;
        } else {
            boolean[] keep = new boolean[slots.length];
            if (depth > 0) keep[active] = true;
            slot = oldest(keep);
            claim(slot, use);
            give(slot, use);
            enqueueDequantization(use, slot);
        }
        active = slot;
        return view(slot, use);
    }

    Counts counts() {
        return new Counts(dequantized, guessedRight, guessedWrong, gemmsBeside);
    }

    private Use successor(Use use) {
        if (use == null) return null;
        Next[] next = successors.get(use.weight);
        Next after = next == null ? null : next[use.direction()];
        return after == null || !after.confirmed ? null : after.use();
    }

    /** The slot that holds (or is being given) the use's values, or -1. */
    private int holding(Use use) {
        for (int i = 0; i < slots.length; i++) if (use.sameValues(slots[i].held)) return i;
        return -1;
    }

    /** Of the slots not kept, the one given a weight longest ago. */
    private int oldest(boolean[] keep) {
        int best = -1;
        for (int i = 0; i < slots.length; i++) if (!keep[i] && (best < 0 || slots[i].given < slots[best].given)) best = i;
        return best;
    }

    /**
     * Readies the slot to be given the use's values: the main stream waits for any side-stream write there (a guess
     * no product took, counted wrong), then the slot grows to the use's bytes if it must.
     */
    private void claim(int slot, Use use) {
        settle(slot);
        Slot s = slots[slot];
        if (s.guessed) guessedWrong++;
        s.guessed = false;
        if (s.memory != null && s.memory.bytes() >= use.bytes()) return;
        // On the main stream, after every earlier reader and writer of the old memory.
        if (s.memory != null) cuda.free(s.memory);
        s.memory = cuda.allocate(use.bytes());
        s.held = null;
    }

    /** The main stream waits for the side stream's write into the slot, if one may still run. */
    private void settle(int slot) {
        Slot s = slots[slot];
        if (!s.pending) return;
        cuda.await(s.written);
        s.pending = false;
    }

    private void give(int slot, Use use) {
        slots[slot].held = use;
        slots[slot].given = ++clock;
        dequantized++;
    }

    /** On the current stream. */
    private void enqueueDequantization(Use use, int slot) {
        CudaNf4Buffer w = use.weight;
        kernels.nf4Dequantize(use.type, view(slot, use), w.packed, w.codes, w.absmax, w.nestedAbsmax, w.nestedMap, codebook,
                w.blockSize, w.nestedBlockSize, w.offset, w.elementCount());
    }

    private DeviceBuffer view(int slot, Use use) {
        return slots[slot].memory.slice(0, use.bytes());
    }
}
