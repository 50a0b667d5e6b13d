package dev.pricer.core.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The threads CPU kernels split their work over: the calling thread plus a pool of {@code count() - 1}
 * workers. The count is the number of processors, or the system property {@code pricer.threads}
 * (benchmarks set it to match the peer's thread count).
 */
public final class CpuThreads {

    private static final int COUNT = threadCount();
    private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, COUNT - 1));
    /** Never started: a thread that owns no arena, to ask whether a segment is confined to its owner. */
    private static final Thread STRANGER = Thread.ofPlatform().unstarted(() -> { });

    private CpuThreads() {
    }

    /** How many threads, the caller included, kernels run on. */
    public static int count() {
        return COUNT;
    }

    /**
     * Runs {@code body} for every task index in [0, tasks), spread over the threads; tasks are claimed one at a
     * time, so uneven tasks balance out. Returns when all are done; the first failure is rethrown. When one of
     * the {@code segments} the tasks touch is confined to the calling thread (a confined arena), the tasks run on
     * the calling thread alone.
     */
    public static void run(int tasks, IntConsumer body, MemorySegment... segments) {
        int workers = Math.min(COUNT, tasks);
        for (MemorySegment s : segments) {
            if (!s.isAccessibleBy(STRANGER)) workers = 1;
        }
        if (workers <= 1) {
            for (int t = 0; t < tasks; t++) body.accept(t);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int t; (t = next.getAndIncrement()) < tasks; ) body.accept(t);
        };
        ForkJoinTask<?>[] helpers = new ForkJoinTask<?>[workers - 1];
        for (int w = 0; w < helpers.length; w++) helpers[w] = POOL.submit(worker);
        RuntimeException failure = null;
        try {
            worker.run();
        } catch (RuntimeException e) {
            failure = e;
        }
        for (ForkJoinTask<?> helper : helpers) {
            try {
                helper.join();
            } catch (RuntimeException e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }

    private static int threadCount() {
        String configured = System.getProperty("pricer.threads");
        if (configured == null) return Runtime.getRuntime().availableProcessors();
        try {
            int n = Integer.parseInt(configured.trim());
            if (n < 1) throw new NumberFormatException("must be at least 1");
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("system property pricer.threads=" + configured + " is not a positive integer", e);
        }
    }
}
