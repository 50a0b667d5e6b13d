package dev.pricer.hub;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A process killed (SIGKILL) while downloading leaves the bytes it had; the next download goes on from there. */
class KilledDownloadTest {

    @TempDir
    Path tmp;

    @Test
    void aKilledDownloadIsResumedWhereItStopped() throws Exception {
        byte[] content = new byte[48 << 20];
        new Random(9).nextBytes(content);
        Path store = tmp.resolve("hub");
        RepoId repo = RepoId.model("alice/big");
        String sha;
        try (LocalHub hub = new LocalHub(Hubs.local(store), "alice")) {
            hub.createRepo(repo, false);
            sha = hub.push(repo, Push.files(Map.of("model.safetensors", Files.write(tmp.resolve("model"), content)), "weights")).sha();
        }
        Path target = tmp.resolve("out/model.safetensors");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), SlowDownload.class.getName(),
            store.toString(), repo.toString(), sha, "model.safetensors", target.toString()).redirectErrorStream(true).start();
        long had = 0;
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; had < (8 << 20) && (line = lines.readLine()) != null; ) {
                if (line.startsWith("moved ")) had = Long.parseLong(line.substring("moved ".length()));
            }
            process.destroyForcibly();
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        }
        assertTrue(had >= 8 << 20 && had < content.length, "killed midway, at " + had + " bytes");
        assertFalse(Files.exists(target), "the target is not there before it is whole");
        long kept = Files.size(CheckedDownload.partOf(target));
        assertTrue(kept >= had - (1 << 20), "what arrived before the kill is kept: " + kept + " of " + had);

        List<Long> moved = new ArrayList<>();
        try (LocalHub hub = new LocalHub(Hubs.local(store), "alice")) {
            hub.download(repo, sha, "model.safetensors", target, moved::add);
        }
        assertArrayEquals(content, Files.readAllBytes(target));
        assertEquals(kept, moved.getFirst(), "the second download went on from the kept bytes");
        assertEquals(content.length - kept, moved.stream().skip(1).mapToLong(Long::longValue).sum());
        assertFalse(Files.exists(CheckedDownload.partOf(target)));
    }
}
