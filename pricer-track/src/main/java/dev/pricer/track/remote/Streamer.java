package dev.pricer.track.remote;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Streams runs to a server in the background: each run the writer reports is uploaded from the local
 * store. When the server cannot be reached it retries with backoff; nothing waits on it and nothing is
 * lost, as the local store keeps every point and the next upload resumes where the server left off.
 */
public final class Streamer implements AutoCloseable {

    private static final long MAX_BACKOFF_MS = 10_000;

    private final Uploader uploader;
    private final Set<String> pending = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private volatile boolean closing;
    private volatile String lastError;

    public Streamer(Uploader uploader) {
        this.uploader = uploader;
        this.thread = Thread.ofPlatform().name("pricer-track-streamer").daemon(true).start(this::loop);
    }

    /** Something of this run changed locally. */
    public void changed(String runId) {
        pending.add(runId);
        LockSupport.unpark(thread);
    }

    public String lastError() {
        return lastError;
    }

    private void loop() {
        long backoff = 0;
        while (!closing) {
            if (backoff > 0 || pending.isEmpty()) LockSupport.parkNanos(Duration.ofMillis(backoff > 0 ? backoff : 250).toNanos());
            if (closing) return;
            backoff = uploadPending() ? 0 : Math.min(Math.max(backoff * 2, 250), MAX_BACKOFF_MS);
        }
    }

    /** One pass over the pending runs; false when one failed (it stays pending). */
    private boolean uploadPending() {
        List<String> runs = new ArrayList<>(pending);
        boolean ok = true;
        for (String runId : runs) {
            pending.remove(runId);
            try {
                uploader.upload(runId);
                lastError = null;
            } catch (Exception e) {
                pending.add(runId);
                if (lastError == null) System.err.println("pricer-track: server unreachable, will retry (" + e.getMessage() + ")");
                lastError = e.getMessage();
                ok = false;
            }
        }
        return ok;
    }

    /**
     * Stops streaming after a last upload of what is pending, for at most {@code wait}; when the server
     * cannot be reached it gives up at once. What is not uploaded stays in the local store for
     * {@code pricer runs sync}.
     */
    public void close(Duration wait) {
        closing = true;
        LockSupport.unpark(thread);
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        long deadline = System.nanoTime() + wait.toNanos();
        while (!pending.isEmpty() && System.nanoTime() < deadline) {
            if (!uploadPending()) return;
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(5));
    }
}
