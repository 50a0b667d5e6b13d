package dev.pricer.cuda;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * GPU time of work the host enqueues, for benchmarks: CUDA events around many back-to-back calls, enqueued while a wait
 * kernel ({@code gpu_wait.cu}) holds the stream, so that the figure is the GPU's alone, not the host's launch rate.
 */
final class GpuTimer {

    private static final int TRIALS = 3;

    /** The median of three trials, in milliseconds per call, and whether the host kept ahead of the GPU in all. */
    record Result(double millis, boolean gpuBound) {
    }

    private GpuTimer() {
    }

    /**
     * Times {@code calls} calls of {@code call(i)} (i = 0 .. calls - 1), after two untimed rounds: one that compiles and
     * warms up, one that measures how long the host takes to enqueue them. The wait before each trial is twice that
     * plus a millisecond; if the host still took longer, the GPU caught up with it and {@link Result#gpuBound()} is false.
     */
    static Result millisPerCall(Cuda cuda, int calls, IntConsumer call) {
        for (int i = 0; i < calls; i++) call.accept(i);
        cuda.synchronize();
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) call.accept(i);
        long waitNs = 1_000_000 + 2 * (System.nanoTime() - t0);
        cuda.synchronize();
        double[] ms = new double[TRIALS];
        boolean gpuBound = true;
        for (int t = 0; t < TRIALS; t++) {
            cuda.launch(cuda.function("gpu_wait.cu", "gpu_wait"), 1, 1, 1, 1, 0, waitNs);
            long start = System.nanoTime();
            long[] enqueueNs = new long[1];
            ms[t] = cuda.elapsedMillis(() -> {
                for (int i = 0; i < calls; i++) call.accept(i);
                enqueueNs[0] = System.nanoTime() - start;
            }) / calls;
            gpuBound &= enqueueNs[0] < waitNs;
        }
        Arrays.sort(ms);
        return new Result(ms[TRIALS / 2], gpuBound);
    }
}
