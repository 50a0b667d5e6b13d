package dev.pricer.cli.track;

import dev.pricer.cli.PricerCommand;
import dev.pricer.track.Run;
import dev.pricer.track.RunSpec;
import dev.pricer.track.Tracker;
import dev.pricer.track.TrackerOptions;
import dev.pricer.track.model.RunStatus;
import dev.pricer.track.store.TrackStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `pricer server` is SIGKILLed while runs stream to it; after a restart, `pricer runs sync` brings every point. */
class ServerKillTest {

    private static final int RUNS = 3;
    private static final int STEPS = 1_500;

    @TempDir
    Path dir;

    private Process startServer(Path home, int port) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process server = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                PricerCommand.class.getName(), "server", "--home", home.toString(), "--port", Integer.toString(port))
                .redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream()));
        String line;
        while ((line = out.readLine()) != null && !line.startsWith("pricer server: http://")) {
            // Javalin's start-up log lines
        }
        assertTrue(line != null, "the server started");
        Thread.ofPlatform().daemon(true).start(() -> out.lines().forEach(l -> { }));
        return server;
    }

    @Test
    void sigkillThenRestartThenSyncCountsEveryPoint() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path serverHome = dir.resolve("server");
        Path clientHome = dir.resolve("client");
        URI uri = URI.create("http://127.0.0.1:" + port);
        Process server = startServer(serverHome, port);
        List<String> ids = new ArrayList<>();
        try (Tracker tracker = Tracker.open(TrackerOptions.local(clientHome).withServer(uri).withSystemMetricsEvery(Duration.ZERO))) {
            List<Run> runs = new ArrayList<>();
            for (int r = 0; r < RUNS; r++) runs.add(tracker.start(RunSpec.of("kill").withName("run-" + r)));
            runs.forEach(run -> ids.add(run.id()));
            for (int step = 1; step <= STEPS; step++) {
                for (Run run : runs) run.log(step, Map.of("train/loss", 1.0 / step, "train/learning_rate", 2e-4));
                if (step % 100 == 0) Thread.sleep(20);
                if (step == STEPS / 3) {
                    server.destroyForcibly();
                    assertTrue(server.waitFor(10, TimeUnit.SECONDS));
                }
            }
            runs.forEach(Run::finish);
        }
        try (TrackStore store = TrackStore.openHome(serverHome)) {
            long before = ids.stream().mapToLong(store::countPoints).sum();
            assertTrue(before < 2L * RUNS * STEPS, "the kill cut the stream short (" + before + " points arrived)");
        }

        server = startServer(serverHome, port);
        try {
            int exit = new CommandLine(new PricerCommand()).execute("runs", "sync", "--home", clientHome.toString(), "--server", uri.toString());
            assertEquals(0, exit);
            try (TrackStore store = TrackStore.openHome(serverHome)) {
                for (String id : ids) {
                    assertEquals(2L * STEPS, store.countPoints(id), "points of " + id);
                    assertEquals(RunStatus.FINISHED, store.requireRun(id).status());
                }
            }
            try (TrackStore local = TrackStore.openHome(clientHome)) {
                assertTrue(local.unsynced().isEmpty(), "nothing left to sync");
            }
        } finally {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
