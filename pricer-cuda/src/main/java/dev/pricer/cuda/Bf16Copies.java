package dev.pricer.cuda;

import java.lang.ref.WeakReference;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The bf16 operands that BF16 precision's tensor-core products read in place of float buffers, each kept until
 * its buffer is written again ({@link CudaBuffer.Allocation} counts the writes). A LoRA matrix is then rounded
 * once per optimizer step (which refreshes the copy in its own pass, {@link #refreshable}) rather than at
 * every product, and a gradient rounded for the frozen weight's product serves the LoRA products that follow.
 * Small buffers (LoRA matrices, rank-r intermediates) keep a copy each, up to a memory cap, least recently used
 * first out; large ones share one staging slot per operand position, as before.
 */
final class Bf16Copies {

    private static final long SMALL_ELEMENTS = 1L << 20;
    private static final long SMALL_CAPACITY_BYTES = 256L << 20;

    private record Source(long address, long elements) {
    }

    private static final class Copy {
        final DeviceBuffer memory;
        WeakReference<CudaBuffer.Allocation> allocation = new WeakReference<>(null);
        long writes;
        Source source;

        Copy(DeviceBuffer memory) {
            this.memory = memory;
        }

        boolean holds(CudaBuffer b, Source s) {
            return s.equals(source) && allocation.get() == b.allocation() && writes == b.allocation().writes();
        }

        void mark(CudaBuffer b, Source s) {
            source = s;
            allocation = new WeakReference<>(b.allocation());
            writes = b.allocation().writes();
        }
    }

    private final Cuda cuda;
    private final Kernels kernels;
    private final Map<Source, Copy> small = new LinkedHashMap<>(64, 0.75f, true);
    private long smallBytes;
    private final Copy[] staging = new Copy[2];

    Bf16Copies(Cuda cuda, Kernels kernels) {
        this.cuda = cuda;
        this.kernels = kernels;
    }

    /**
     * The first {@code elements} of float {@code b} in bf16, rounded now unless a current copy exists. A product
     * takes its first operand from slot 0, then its second from slot 1, which may then be slot 0's current copy:
     * a gradient that one product read first (dB += dyᵀ·u) and the next reads second (duᵀ = s·Bᵀ·dyᵀ) is
     * rounded once.
     */
    DeviceBuffer of(CudaBuffer b, long elements, int slot) {
        Source s = new Source(b.memory().address(), elements);
        if (slot == 1 && elements > SMALL_ELEMENTS && staging[0] != null && staging[0].holds(b, s)) return staging[0].memory.slice(0, elements * 2);
        Copy copy = elements <= SMALL_ELEMENTS ? small(s) : staging(slot, elements);
        if (!copy.holds(b, s)) {
            kernels.toBf16(copy.memory, b.memory(), elements);
            copy.mark(b, s);
        }
        return copy.memory.slice(0, elements * 2);
    }

    /**
     * Where {@link #of} keeps the bf16 copy of {@code b}'s first {@code elements}, for a kernel that writes b to
     * fill as it goes; that kernel's caller then calls {@link #produced}.
     */
    DeviceBuffer target(CudaBuffer b, long elements, int slot) {
        Source s = new Source(b.memory().address(), elements);
        return (elements <= SMALL_ELEMENTS ? small(s) : staging(slot, elements)).memory.slice(0, elements * 2);
    }

    /** The copy {@link #target} gave is now current: b was just written, and the same kernel wrote the copy. */
    void produced(CudaBuffer b, long elements, int slot) {
        Source s = new Source(b.memory().address(), elements);
        (elements <= SMALL_ELEMENTS ? small.get(s) : staging[slot]).mark(b, s);
    }

    /**
     * The copy of all of {@code b} that a pass about to write {@code b} can refresh as it goes, or null when
     * there is none; after that pass, {@link #refreshed} marks it current again.
     */
    DeviceBuffer refreshable(CudaBuffer b) {
        Copy copy = small.get(new Source(b.memory().address(), b.length()));
        return copy != null && copy.allocation.get() == b.allocation() ? copy.memory : null;
    }

    void refreshed(CudaBuffer b) {
        Source s = new Source(b.memory().address(), b.length());
        small.get(s).mark(b, s);
    }

    /** Frees every copy, once the work that reads them is done. */
    void close() {
        small.values().forEach(copy -> cuda.free(copy.memory));
        small.clear();
        smallBytes = 0;
        for (int slot = 0; slot < staging.length; slot++) {
            if (staging[slot] != null) cuda.free(staging[slot].memory);
            staging[slot] = null;
        }
    }

    private Copy small(Source s) {
        Copy copy = small.get(s);
        if (copy != null) return copy;
        copy = new Copy(cuda.allocate(s.elements() * 2));
        small.put(s, copy);
        smallBytes += copy.memory.bytes();
        for (Iterator<Copy> eldest = small.values().iterator(); smallBytes > SMALL_CAPACITY_BYTES && eldest.hasNext(); ) {
            Copy old = eldest.next();
            if (old == copy) break;
            eldest.remove();
            smallBytes -= old.memory.bytes();
            cuda.free(old.memory);
        }
        return copy;
    }

    private Copy staging(int slot, long elements) {
        Copy copy = staging[slot];
        if (copy == null || copy.memory.bytes() < elements * 2) {
            if (copy != null) cuda.free(copy.memory);
            copy = staging[slot] = new Copy(cuda.allocate(elements * 2));
        }
        return copy;
    }
}
