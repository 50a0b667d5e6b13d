package dev.pricer.hub.store;

import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.FileEntry;
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
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hub over S3, against a real S3-compatible server: Adobe's S3Mock (its runnable jar, which the build copies
 * from Maven Central into target/s3mock, started as a process), reached through the AWS SDK v2 as any S3 endpoint
 * is. S3Mock honours conditional writes (If-Match, If-None-Match), so the compare-and-set that moves refs is
 * proven here against a server, racing pushes included. (Its check is not atomic under simultaneous requests,
 * unlike AWS S3's; the race below is therefore ordered: the loser's ref write is held until the winner's landed.)
 */
class S3ObjectStoreTest {

    static final Path JAR = Path.of("target", "s3mock", "s3mock.jar");

    static Process server;
    static URI endpoint;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startServer(@TempDir Path data) throws Exception {
        assertTrue(Files.isRegularFile(JAR), JAR + " is missing: the build's maven-dependency-plugin copies it (mvn generate-test-resources)");
        String java = ProcessHandle.current().info().command().orElseThrow();
        server = new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", JAR.toString(), "--server.port=0", "--http.port=0",
            "--com.adobe.testing.s3mock.store.initial-buckets=hub", "--com.adobe.testing.s3mock.store.root=" + data,
            "--spring.main.banner-mode=off").redirectErrorStream(true).start();
        BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        Pattern started = Pattern.compile("started on ports \\d+ \\(https\\), (\\d+) \\(http\\)");
        List<String> seen = new ArrayList<>();
        for (String line; (line = lines.readLine()) != null; ) {
            seen.add(line);
            Matcher m = started.matcher(line);
            if (m.find()) {
                endpoint = URI.create("http://127.0.0.1:" + m.group(1));
                break;
            }
        }
        if (endpoint == null) throw new AssertionError("S3Mock did not start:\n" + String.join("\n", seen));
        Thread.ofVirtual().start(() -> {
            try {
                lines.lines().forEach(ignored -> { });
            } catch (UncheckedIOException stopped) {
                // the server's output closes when stopServer ends it
            }
        });
    }

    @AfterAll
    static void stopServer() {
        if (server != null) server.destroy();
    }

    private S3ObjectStore store(String prefix) throws IOException {
        return store(prefix, List.of());
    }

    /** A client of its own, as another process would have; {@code interceptors} see its requests. */
    private S3ObjectStore store(String prefix, List<ExecutionInterceptor> interceptors) throws IOException {
        S3Client s3 = Hubs.compatible(S3Client.builder(), endpoint).region(Region.US_EAST_1)
            .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
            .overrideConfiguration(c -> interceptors.forEach(c::addExecutionInterceptor)).build();
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
            assertFalse(objects.compareAndSet("a/b", null, "created?".getBytes()), "If-None-Match: * on an existing key");
            assertTrue(objects.compareAndSet("a/new", null, "created".getBytes()));
            assertTrue(objects.compareAndSet("a/new", "created".getBytes(), null), "a delete by If-Match");
            assertTrue(objects.stat("a/new").isEmpty());
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

    @Test
    void twoPushesRaceOnOneBranchAndExactlyOneWins() throws Exception {
        RepoId repo = RepoId.model("alice/race");
        CountDownLatch loserAtRef = new CountDownLatch(1);
        CountDownLatch winnerLanded = new CountDownLatch(1);
        List<String> ifMatch = new CopyOnWriteArrayList<>();
        ExecutionInterceptor holdTheRefWrite = new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                SdkHttpRequest request = context.httpRequest();
                if (request.method() != SdkHttpMethod.PUT || !request.encodedPath().endsWith("/refs/heads/main")) return;
                request.firstMatchingHeader("If-Match").ifPresent(ifMatch::add);
                loserAtRef.countDown();
                try {
                    assertTrue(winnerLanded.await(30, TimeUnit.SECONDS), "the other push never landed");
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
        };
        try (LocalHub winner = new LocalHub(new HubStore(store("race")), "winner");
             LocalHub loser = new LocalHub(new HubStore(store("race", List.of(holdTheRefWrite))), "loser")) {
            winner.createRepo(repo, false);
            CommitInfo base = winner.push(repo, Push.files(Map.of("config.json", Files.writeString(tmp.resolve("c"), "{}")), "base"));
            String baseEtag = "\"" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5")
                .digest(base.sha().getBytes(StandardCharsets.US_ASCII))) + "\"";

            CompletableFuture<CommitInfo> lost = CompletableFuture.supplyAsync(() -> {
                try {
                    return loser.push(repo, Push.files(Map.of("loser.bin", Files.writeString(tmp.resolve("l"), "from the loser")), "loser's step"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            assertTrue(loserAtRef.await(30, TimeUnit.SECONDS), "the loser reached its ref write");
            CommitInfo won = winner.push(repo, Push.files(Map.of("winner.bin", Files.writeString(tmp.resolve("w"), "from the winner")), "winner's step"));
            winnerLanded.countDown();

            ExecutionException failure = assertThrows(ExecutionException.class, () -> lost.get(30, TimeUnit.SECONDS));
            HubException.Conflict conflict = assertInstanceOf(HubException.Conflict.class, failure.getCause());
            assertTrue(conflict.getMessage().contains("main"), conflict.getMessage());
            assertEquals(List.of(baseEtag), ifMatch, "the loser's write carried the ETag of the head it read");

            assertEquals(won.sha(), winner.resolve(repo, "main"));
            assertEquals(base.sha(), won.parent());
            assertEquals(List.of("config.json", "winner.bin"), winner.files(repo, "main").stream().map(FileEntry::path).toList());
            assertEquals("from the winner", Files.readString(winner.download(repo, "main", "winner.bin", tmp.resolve("out/winner.bin"))));
            assertEquals(1, winner.store().gc(Duration.ZERO).blobsRemoved(), "only the loser's blob was left unreferenced");
            assertEquals(2, winner.log(repo, "main", 10).size());
            assertEquals("{}", Files.readString(winner.download(repo, "main", "config.json", tmp.resolve("out/config.json"))));
        }
    }
}
