package dev.pricer.server.track;

import dev.pricer.track.store.TrackStore;
import io.javalin.http.sse.SseClient;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Server-sent events for the dashboard: event {@code run} with a run id whenever that run's points or
 * metadata change. It watches the store rather than the API, so runs written straight into the local store
 * by a trainer on this machine update live too. A client may pass {@code ?run=ID} (repeated) to hear only
 * those runs.
 */
final class LiveUpdates {

    private static final long POLL_MS = 500;

    private final TrackStore store;
    private final Map<SseClient, Set<String>> clients = new ConcurrentHashMap<>();
    private final Map<String, String> versions = new HashMap<>();
    private volatile Thread watcher;
    private volatile boolean stopped;

    LiveUpdates(TrackStore store) {
        this.store = store;
    }

    void subscribe(SseClient client) {
        List<String> runs = client.ctx().queryParams("run");
        clients.put(client, Set.copyOf(runs));
        client.onClose(() -> clients.remove(client));
        client.sendComment("connected");
        startWatching();
        client.keepAlive();
    }

    /** Something was written through the API: look now rather than at the next tick. */
    void poke() {
        Thread w = watcher;
        if (w != null) LockSupport.unpark(w);
    }

    private synchronized void startWatching() {
        if (watcher != null || stopped) return;
        versions.putAll(store.activeRuns(0));
        watcher = Thread.ofPlatform().name("pricer-live-updates").daemon(true).start(this::watch);
    }

    /**
     * The server is stopping: the watcher ends and waits for nothing more, before the store it reads is closed (it
     * polled a closed store twice a second, reporting each failure, for as long as the process lived).
     */
    synchronized void stop() {
        stopped = true;
        Thread w = watcher;
        if (w == null) return;
        w.interrupt();
        try {
            w.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void watch() {
        while (!stopped && !Thread.currentThread().isInterrupted()) {
            LockSupport.parkNanos(POLL_MS * 1_000_000);
            if (clients.isEmpty() || stopped) continue;
            try {
                Map<String, String> now = store.activeRuns(System.currentTimeMillis() - 60_000);
                for (var e : now.entrySet()) {
                    if (e.getValue().equals(versions.put(e.getKey(), e.getValue()))) continue;
                    send(e.getKey());
                }
            } catch (RuntimeException e) {
                System.err.println("pricer server: live updates failed to read the store: " + e.getMessage());
            }
        }
    }

    private void send(String runId) {
        for (var entry : clients.entrySet()) {
            Set<String> wanted = entry.getValue();
            if (!wanted.isEmpty() && !wanted.contains(runId)) continue;
            SseClient client = entry.getKey();
            if (client.terminated()) {
                clients.remove(client);
                continue;
            }
            client.sendEvent("run", runId);
        }
    }
}
