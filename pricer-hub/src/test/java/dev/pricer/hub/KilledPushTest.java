package dev.pricer.hub;

import dev.pricer.hub.store.HubStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A process killed (SIGKILL) while pushing leaves a store whose branch points at a complete, readable commit. */
class KilledPushTest {

    @TempDir
    Path tmp;

    @Test
    void killingAPushingProcessLeavesEveryRefReadable() throws Exception {
        Path store = tmp.resolve("hub");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), PushLoop.class.getName(),
            store.toString(), tmp.resolve("work").toString()).redirectErrorStream(true).start();
        List<String> committed = new ArrayList<>();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; committed.size() < 3 && (line = lines.readLine()) != null; ) {
                if (line.startsWith("committed ")) committed.add(line.substring("committed ".length()));
            }
            Thread.sleep(30);
            process.destroyForcibly();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        }
        assertEquals(3, committed.size(), "the loop committed before it was killed");

        try (LocalHub hub = new LocalHub(Hubs.local(store), "checker")) {
            RepoId repo = RepoId.model("alice/killed");
            List<CommitInfo> log = hub.log(repo, "main", 1000);
            assertTrue(log.size() >= 3, "no commit that was reported is lost");
            assertTrue(log.stream().map(CommitInfo::sha).toList().containsAll(committed));
            for (CommitInfo commit : log) {
                for (FileEntry file : hub.files(repo, commit.sha())) {
                    hub.download(repo, commit.sha(), file.path(), tmp.resolve("check").resolve(file.path()));
                }
                int step = Integer.parseInt(Files.readString(tmp.resolve("check/step.txt")));
                assertEquals("step " + step, commit.message());
            }
            HubStore hubStore = hub.store();
            hubStore.gc(Duration.ZERO);
            try (var staged = Files.list(store.resolve("tmp"))) {
                assertEquals(0, staged.count(), "gc removed what the killed push left half-received");
            }
            assertEquals(log.getFirst().sha(), hub.resolve(repo, "main"));
        }
    }
}
