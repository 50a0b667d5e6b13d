package dev.pricer.cuda;

import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Where NF4 weights are dequantized for their GEMMs. As in bitsandbytes, a product dequantizes its weight right
 * before its GEMM, so the model never exists dequantized as a whole: scratch holds one weight (or two, ahead).
 *
 * <p>Ahead: a training or generation step runs the same products in the same order every time, so which weight the
 * product after this one needs is known from the time before. Once a product's GEMM is enqueued, that next weight is
 * dequantized into the second slot on the side stream ({@link Cuda#onSideStream}), starting when this GEMM ends: it
 * then runs beside the main stream's work between the two GEMMs (LoRA products, attention, norms, element-wise
 * kernels), which leaves memory bandwidth and multiprocessors idle, instead of alone. Starting only after the GEMM
 * matters: dequantizing beside a GEMM slows the GEMM more than it gains (BENCHMARKS.md). A wrong guess costs one
 * dequantization: the product waits for it, then dequantizes its own weight.
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

    /** Dequantizations so far, and of the weights dequantized ahead, how many a product then used and how many not. */
    record Counts(long dequantized, long guessedRight, long guessedWrong) {
    }

    private record Next(WeakReference<CudaNf4Buffer> weight, ElementType type, boolean transposed) {
        Use use() {
            CudaNf4Buffer w = weight.get();
            return w == null ? null : new Use(w, type, transposed);
        }
    }

    private final Cuda cuda;
    private final Kernels kernels;
    private final DeviceBuffer codebook;
    private final boolean ahead;
    private final DeviceBuffer[] slots = new DeviceBuffer[2];
    private final Use[] held = new Use[2];
    /** Per slot, reached when the side stream has written it; pending while a write there may still run. */
    private final MemorySegment[] written = new MemorySegment[2];
    private final boolean[] pending = new boolean[2];
    /** Per slot, whether its weight was dequantized ahead and no product has taken it yet. */
    private final boolean[] guessed = new boolean[2];
    private long dequantized, guessedRight, guessedWrong;
    private MemorySegment productEnqueued;
    /** The slot of the weight last taken. */
    private int active;
    private Use previous;
    /** Per weight, the use that followed its forward use [1] and its input-gradient use [0] last time. */
    private final Map<CudaNf4Buffer, Next[]> successors = new WeakHashMap<>();

    Nf4Scratch(Cuda cuda, Kernels kernels, DeviceBuffer codebook, boolean ahead) {
        this.cuda = cuda;
        this.kernels = kernels;
        this.codebook = codebook;
        this.ahead = ahead;
    }

    /**
     * The weight's values in type t, ready for a GEMM enqueued next on the main stream; valid until the next call.
     * Call {@link #enqueued} once that GEMM is enqueued.
     */
    DeviceBuffer take(CudaNf4Buffer weight, ElementType t, boolean transposed) {
        Use use = new Use(weight, t, transposed);
        if (previous != null) {
            successors.computeIfAbsent(previous.weight, w -> new Next[2])[previous.direction()] =
                    new Next(new WeakReference<>(weight), t, transposed);
        }
        previous = use;
        if (use.sameValues(held[active])) return view(active, use);
        int slot = ahead ? 1 - active : active;
        settle(slot);
        active = slot;
        boolean right = use.sameValues(held[slot]);
        if (guessed[slot]) {
            if (right) guessedRight++;
            else guessedWrong++;
            guessed[slot] = false;
        }
        if (!right) {
            fit(slot, use);
            dequantize(use, slot);
        }
        return view(slot, use);
    }

    /** After the GEMM of the last {@link #take}: ahead, the predicted next weight is dequantized once that GEMM is done. */
    void enqueued() {
        if (!ahead || previous == null) return;
        Next[] next = successors.get(previous.weight);
        Use guess = next == null || next[previous.direction()] == null ? null : next[previous.direction()].use();
        int slot = 1 - active;
        if (guess == null || guess.sameValues(held[active]) || guess.sameValues(held[slot])) return;
        settle(slot);
        if (guessed[slot]) guessedWrong++;
        fit(slot, guess);
        if (productEnqueued == null) productEnqueued = cuda.newEvent();
        if (written[slot] == null) written[slot] = cuda.newEvent();
        // The main stream's work so far includes every reader of this slot: the GEMM before the one just enqueued.
        cuda.record(productEnqueued);
        cuda.onSideStream(() -> {
            cuda.await(productEnqueued);
            dequantize(guess, slot);
            cuda.record(written[slot]);
        });
        pending[slot] = true;
        guessed[slot] = true;
    }

    Counts counts() {
        return new Counts(dequantized, guessedRight, guessedWrong);
    }

    /** Bytes of scratch held. */
    long bytes() {
        return (slots[0] == null ? 0 : slots[0].bytes()) + (slots[1] == null ? 0 : slots[1].bytes());
    }

    /** The main stream waits for the side stream's write into the slot, if one may still run. */
    private void settle(int slot) {
        if (!pending[slot]) return;
        cuda.await(written[slot]);
        pending[slot] = false;
    }

    /** Makes the slot hold at least the use's bytes (on the main stream, after every earlier reader and writer). */
    private void fit(int slot, Use use) {
        if (slots[slot] != null && slots[slot].bytes() >= use.bytes()) return;
        if (slots[slot] != null) cuda.free(slots[slot]);
        slots[slot] = cuda.allocate(use.bytes());
        held[slot] = null;
    }

    private void dequantize(Use use, int slot) {
        CudaNf4Buffer w = use.weight;
        kernels.nf4Dequantize(use.type, view(slot, use), w.packed, w.codes, w.absmax, w.nestedAbsmax, w.nestedMap, codebook,
                w.blockSize, w.nestedBlockSize, w.offset, w.elementCount());
        held[slot] = use;
        dequantized++;
    }

    private DeviceBuffer view(int slot, Use use) {
        return slots[slot].slice(0, use.bytes());
    }
}
