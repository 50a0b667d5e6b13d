package dev.pricer.hub.store;

import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.HubException;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.Push;
import dev.pricer.hub.RepoId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hub over S3, against a real S3-compatible server: s3rver (npm, pinned, installed under target/ once),
 * reached through the AWS SDK v2 as any S3 endpoint is. s3rver ignores conditional writes, so the compare-and-set
 * race is proven on the file store only; here the same layout, reads, ranges, listing and gc are.
 */
class S3ObjectStoreTest {

    static final String SERVER = "s3rver@3.7.1";
    static final Path INSTALL = Path.of("target", "s3rver");

    static Process server;
    static URI endpoint;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startServer(@TempDir Path data) throws Exception {
        if (!Files.exists(INSTALL.resolve("node_modules/s3rver/package.json"))) {
            Files.createDirectories(INSTALL);
            Process npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund", "--prefix", INSTALL.toString(), SERVER)
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!npm.waitFor(300, TimeUnit.SECONDS) || npm.exitValue() != 0) throw new AssertionError("npm install " + SERVER + " failed");
        }
        server = new ProcessBuilder("node", INSTALL.resolve("node_modules/s3rver/bin/s3rver.js").toString(),
            "-d", data.toString(), "-a", "127.0.0.1", "-p", "0", "--configure-bucket", "hub").redirectErrorStream(true).start();
        BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        Pattern listening = Pattern.compile("listening on ([0-9.]+:[0-9]+)");
        for (String line; (line = lines.readLine()) != null; ) {
            Matcher m = listening.matcher(line);
            if (m.find()) {
                endpoint = URI.create("http://" + m.group(1));
                break;
            }
        }
        if (endpoint == null) throw new AssertionError("s3rver did not start");
        Thread.ofVirtual().start(() -> lines.lines().forEach(ignored -> { }));
    }

    @AfterAll
    static void stopServer() {
        if (server != null) server.destroy();
    }

    private S3ObjectStore store(String prefix) throws IOException {
        S3Client s3 = Hubs.compatible(S3Client.builder(), endpoint).region(Region.US_EAST_1)
            .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("S3RVER", "S3RVER"))).build();
        return new S3ObjectStore(s3, "hub", prefix, tmp.resolve("staging"));
    }

    @Test
    void objectsReadWriteRangeListAndDelete() throws IOException {
        try (S3ObjectStore objects = store("t1")) {
            assertTrue(objects.read("a/b").isEmpty());
            objects.write("a/b", "hello world".getBytes());
            assertArrayEquals("hello world".getBytes(), objects.read("a/b").orElseThrow());
            assertEquals(11, objects.stat("a/b").orElseThrow().size());
            try (InputStream in = objects.open("a/b", 6, 5)) {
                assertEquals("world", new String(in.readAllBytes()));
            }
            Path staged = Files.writeString(Files.createTempFile(objects.stagingDir(), "x", ""), "staged");
            objects.moveIn(staged, "a/c");
            assertFalse(Files.exists(staged));
            assertEquals(List.of("a/b", "a/c"), objects.list("a/").stream().map(ObjectStore.Stat::key).sorted().toList());
            assertTrue(objects.compareAndSet("a/b", "hello world".getBytes(), "next".getBytes()));
            assertFalse(objects.compareAndSet("a/b", "stale".getBytes(), "lost".getBytes()));
            assertArrayEquals("next".getBytes(), objects.read("a/b").orElseThrow());
            objects.delete("a/b");
            assertTrue(objects.stat("a/b").isEmpty());
        }
    }

    @Test
    void theHubWorksOverS3WithTheSameLayout() throws IOException {
        try (LocalHub hub = new LocalHub(new HubStore(store("hub-root")), "tester")) {
            RepoId repo = RepoId.model("alice/s3-run");
            hub.createRepo(repo, false);
            byte[] weights = new byte[200_000];
            new java.util.Random(7).nextBytes(weights);
            CommitInfo first = hub.push(repo, Push.files(Map.of("w.bin", Files.write(tmp.resolve("w"), weights), "c.json", Files.writeString(tmp.resolve("c"), "{}")), "step 1"));
            hub.tag(repo, "step-1", first.sha());
            CommitInfo second = hub.push(repo, Push.files(Map.of("c.json", Files.writeString(tmp.resolve("c"), "{\"x\":1}")), "step 2"));
            assertEquals(first.sha(), second.parent());
            assertEquals(first.sha(), hub.resolve(repo, "step-1"));
            assertEquals(first.sha(), hub.resolve(repo, first.sha().substring(0, 9)));
            assertArrayEquals(weights, Files.readAllBytes(hub.download(repo, "main", "w.bin", tmp.resolve("out/w.bin"))));
            assertEquals("{}", Files.readString(hub.download(repo, "step-1", "c.json", tmp.resolve("out/c.json"))));
            assertThrows(HubException.NotFound.class, () -> hub.resolve(repo, "nope"));
            try (S3ObjectStore raw = store("hub-root")) {
                List<String> keys = raw.list("").stream().map(ObjectStore.Stat::key).toList();
                assertTrue(keys.contains("blobs/" + Hashing.sha256(weights).substring(0, 2) + "/" + Hashing.sha256(weights)), keys.toString());
                assertTrue(keys.contains("repos/models/alice/s3-run/refs/heads/main"), keys.toString());
                assertTrue(keys.contains("repos/models/alice/s3-run/refs/tags/step-1"), keys.toString());
                assertTrue(keys.contains("repos/models/alice/s3-run/commits/" + second.sha()), keys.toString());
            }
            hub.store().ingest(new java.io.ByteArrayInputStream("orphan".getBytes()), null, -1, 100);
            assertEquals(1, hub.store().gc(Duration.ZERO).blobsRemoved());
            assertEquals(3, hub.store().gc(Duration.ZERO).blobsKept());
        }
    }
}
