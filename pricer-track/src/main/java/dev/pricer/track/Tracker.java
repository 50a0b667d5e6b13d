package dev.pricer.track;

import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunStatus;
import dev.pricer.track.remote.Downloader;
import dev.pricer.track.remote.Streamer;
import dev.pricer.track.remote.TrackClient;
import dev.pricer.track.remote.Uploader;
import dev.pricer.track.store.NoSuchRunException;
import dev.pricer.track.store.TrackStore;
import dev.pricer.track.system.SystemSampler;
import dev.pricer.track.write.MetricWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Records runs: into the local store always, and to a server too when one is configured. One tracker per
 * process is enough; it owns the background writer, the streamer and the system-metrics sampler.
 * See {@code pricer-track/API.md}.
 */
public final class Tracker implements AutoCloseable {

    private static final DateTimeFormatter NAME_FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd_HH.mm.ss");

    private final TrackStore store;
    private final MetricWriter writer;
    private final Streamer streamer;
    private final TrackClient client;
    private final Set<Run> open = ConcurrentHashMap.newKeySet();
    private final Thread shutdownHook;
    private final Thread sampler;
    private volatile boolean closed;

    private Tracker(TrackerOptions options) {
        this.store = TrackStore.openHome(options.home());
        if (options.server() != null) {
            this.client = new TrackClient(options.server(), options.token());
            this.streamer = new Streamer(new Uploader(store, client));
        } else {
            this.client = null;
            this.streamer = null;
        }
        this.writer = new MetricWriter(store, this::changed);
        this.shutdownHook = new Thread(this::crashOpenRuns, "pricer-track-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        this.sampler = options.systemMetricsEvery().isZero() ? null
                : Thread.ofPlatform().name("pricer-track-system").daemon(true).start(() -> sample(options.systemMetricsEvery()));
    }

    public static Tracker open(TrackerOptions options) {
        return new Tracker(options);
    }

    /** The local store, for reading back what was recorded. */
    public TrackStore store() {
        return store;
    }

    public Run start(RunSpec spec) {
        long now = System.currentTimeMillis();
        String name = spec.name() != null ? spec.name()
                : LocalDateTime.ofInstant(java.time.Instant.ofEpochMilli(now), ZoneId.systemDefault()).format(NAME_FORMAT);
        String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        RunInfo info = new RunInfo(id, spec.project(), name, null, RunStatus.RUNNING, now, null, now, host(),
                spec.gitCommit() != null ? spec.gitCommit() : gitCommit(),
                spec.command() != null ? spec.command() : ProcessHandle.current().info().commandLine().orElse(""),
                spec.notes(), spec.tags(), spec.flatConfig(), 0, Map.of());
        store.upsertRun(info);
        return track(info);
    }

    /**
     * Continues a run; steps logged below its last ones start a new segment. A run the local store lacks (another
     * machine tracked it) is first copied from the server, history and all, so the two machines' points make one run
     * there; without a server, or when the server has no such run, {@link NoSuchRunException}.
     */
    public Run resume(String runId) {
        if (store.run(runId).isEmpty() && client != null) {
            try {
                new Downloader(store, client).download(runId);
            } catch (TrackClient.NotFound e) {
                throw new NoSuchRunException(runId);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot copy run " + runId + " from " + client.server() + " to continue it: " + e.getMessage(), e);
            }
        }
        RunInfo info = store.requireRun(runId);
        store.end(runId, RunStatus.RUNNING, 0);
        store.heartbeat(List.of(runId), System.currentTimeMillis());
        return track(info);
    }

    private Run track(RunInfo info) {
        if (closed) throw new IllegalStateException("the tracker is closed");
        Run run = new Run(this, info, writer.open(info.id(), store.resumePoint(info.id())));
        open.add(run);
        changed(info.id());
        return run;
    }

    MetricWriter writer() {
        return writer;
    }

    void ended(Run run, RunStatus status, String notes) {
        writer.flush().join();
        if (notes != null) store.setNotes(run.id(), notes);
        store.end(run.id(), status, System.currentTimeMillis());
        writer.forget(run.id());
        open.remove(run);
        changed(run.id());
    }

    private void changed(String runId) {
        if (streamer != null) streamer.changed(runId);
    }

    private void sample(Duration every) {
        SystemSampler system = new SystemSampler();
        while (!closed) {
            try {
                TimeUnit.MILLISECONDS.sleep(every.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            if (open.isEmpty()) continue;
            Map<String, Double> values = system.sample();
            for (Run run : open) run.logSystem(values);
        }
    }

    /** The shutdown hook: write what is queued, and mark runs that never ended as crashed. */
    private void crashOpenRuns() {
        for (Run run : List.copyOf(open)) {
            try {
                run.end(RunStatus.CRASHED, "the process exited before the run finished");
            } catch (RuntimeException e) {
                System.err.println("pricer-track: could not record the end of run " + run.id() + ": " + e.getMessage());
            }
        }
        shutdown();
    }

    /** Waits for queued points to be written and uploaded (up to 10 s); runs still open stay running. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException alreadyShuttingDown) {
            return;
        }
        shutdown();
    }

    private synchronized void shutdown() {
        if (closed) return;
        closed = true;
        if (sampler != null) sampler.interrupt();
        writer.close();
        if (streamer != null) {
            streamer.close(Duration.ofSeconds(10));
            client.close();
        }
        store.close();
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return System.getenv().getOrDefault("HOSTNAME", "unknown");
        }
    }

    private static String gitCommit() {
        try {
            Process git = new ProcessBuilder("git", "rev-parse", "HEAD").redirectError(ProcessBuilder.Redirect.DISCARD).start();
            if (!git.waitFor(2, TimeUnit.SECONDS)) {
                git.destroyForcibly();
                return null;
            }
            String out = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return git.exitValue() == 0 && out.matches("[0-9a-f]{40,64}") ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
