package dev.pricer.cuda;

import dev.pricer.cuda.lib.CublasLt;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Picks cuBLASLt algorithms by timing them, as PyTorch's TunableOp does: the heuristic's estimate of which of its
 * algorithms is fastest can be off (a tile that leaves most of the last wave idle, say), so for each new shape
 * {@link Gemm} asks it for {@link #CANDIDATES} algorithms and this class times each on the product's own operands.
 * The choices live in memory only: algorithms are opaque structs tied to the library version.
 *
 * <p>On with {@code PRICER_GEMM_TUNE=1}; {@code PRICER_GEMM_TUNE_LOG=1} prints each shape's timings to stderr.
 */
final class GemmTuner {

    static final String VARIABLE = "PRICER_GEMM_TUNE";
    static final String LOG_VARIABLE = "PRICER_GEMM_TUNE_LOG";
    /** How many algorithms the heuristic is asked for. */
    static final int CANDIDATES = 8;
    private static final int WARM_UP_LAUNCHES = 2;
    private static final int TIMED_LAUNCHES = 5;

    /** One launch of the product with the given algorithm, returning cuBLASLt's status. */
    @FunctionalInterface
    interface Launch {
        int run(MemorySegment algorithm);
    }

    private final Cuda cuda;
    private final CublasLt lt;
    private final boolean log;
    private final AtomicInteger tunedShapes = new AtomicInteger();

    GemmTuner(Cuda cuda, CublasLt lt, boolean log) {
        this.cuda = cuda;
        this.lt = lt;
        this.log = log;
    }

    /** How many shapes have been tuned. */
    int tunedShapes() {
        return tunedShapes.get();
    }

    /**
     * The index of the fastest of the first {@code count} heuristic results, timed with CUDA events over a few launches
     * after a couple of warm-up ones. Results that need more than {@code workspaceBytes} of workspace, or whose launch
     * fails, are left out; if none runs, the heuristic's first choice (index 0) stands.
     */
    int fastest(MemorySegment results, int count, long workspaceBytes, Launch launch, String what) {
        tunedShapes.incrementAndGet();
        int best = 0;
        float bestMillis = Float.POSITIVE_INFINITY;
        List<String> report = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String skipped = CublasLt.state(results, i) != 0 ? "not valid"
                    : CublasLt.workspaceBytes(results, i) > workspaceBytes ? "workspace " + CublasLt.workspaceBytes(results, i) + " bytes"
                    : null;
            if (skipped != null) {
                report.add(skipped);
                continue;
            }
            Timing t = time(CublasLt.algorithm(results, i), launch);
            if (t.status() != 0) {
                report.add("failed: " + lt.statusName(t.status()));
                continue;
            }
            report.add(String.format(Locale.ROOT, "%.4f ms", t.millis()));
            if (t.millis() < bestMillis) {
                bestMillis = t.millis();
                best = i;
            }
        }
        if (log) System.err.println("gemm tuning " + what + ": chose " + best + " of " + count + " " + report);
        return best;
    }

    /** Milliseconds per launch, or the status of the first launch that failed. */
    private record Timing(float millis, int status) {
    }

    /**
     * The timed launches are enqueued behind a wait kernel that holds the stream for several times as long as the host
     * takes to enqueue them, so the events time the GPU's work, not the host's launch rate (which would make small
     * products look alike).
     */
    private Timing time(MemorySegment algorithm, Launch launch) {
        long enqueueNs = 0;
        for (int w = 0; w < WARM_UP_LAUNCHES; w++) {
            long t0 = System.nanoTime();
            int status = launch.run(algorithm);
            if (status != 0) return new Timing(Float.NaN, status);
            enqueueNs = System.nanoTime() - t0;
        }
        cuda.launch(cuda.function("gpu_wait.cu", "gpu_wait"), 1, 1, 1, 1, 0, 100_000L + 4 * TIMED_LAUNCHES * enqueueNs);
        int[] status = {0};
        float millis = cuda.elapsedMillis(() -> {
            for (int t = 0; t < TIMED_LAUNCHES && status[0] == 0; t++) status[0] = launch.run(algorithm);
        });
        return new Timing(millis / TIMED_LAUNCHES, status[0]);
    }
}
