package dev.pricer.hub;

import dev.pricer.hub.store.GcReport;
import dev.pricer.hub.store.HubStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalHubTest {

    @TempDir
    Path tmp;

    private LocalHub hub() {
        return new LocalHub(Hubs.local(tmp.resolve("hub")), "tester");
    }

    private Path write(String name, String content) throws IOException {
        Path file = tmp.resolve("src").resolve(name);
        Files.createDirectories(file.getParent());
        return Files.writeString(file, content);
    }

    private static String read(HubClient hub, RepoId repo, String rev, String path) throws IOException {
        try (InputStream in = hub.open(repo, rev, path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void pushesResolvesAndReadsEveryRevision() throws IOException {
        try (LocalHub hub = hub()) {
            RepoId repo = RepoId.model("alice/run-1");
            RepoInfo created = hub.createRepo(repo, false);
            assertNull(created.head());
            CommitInfo first = hub.push(repo, Push.files(Map.of("adapter.bin", write("a1", "weights v1"), "cfg/config.json", write("c", "{}")), "step 10"));
            hub.tag(repo, "step-10", first.sha());
            CommitInfo second = hub.push(repo, Push.files(Map.of("adapter.bin", write("a2", "weights v2")), "step 20\n\nbetter loss"));

            assertEquals(first.sha(), second.parent());
            assertEquals(40, second.sha().length());
            assertEquals("step 20", second.title());
            assertEquals(second.sha(), hub.resolve(repo, "main"));
            assertEquals(first.sha(), hub.resolve(repo, "step-10"));
            assertEquals(first.sha(), hub.resolve(repo, first.sha().substring(0, 7)));
            assertEquals(first.sha(), hub.resolve(repo, first.sha()));
            assertEquals("weights v1", read(hub, repo, "step-10", "adapter.bin"));
            assertEquals("weights v2", read(hub, repo, "main", "adapter.bin"));
            assertEquals("{}", read(hub, repo, "main", "cfg/config.json"));
            assertEquals(List.of("adapter.bin", "cfg/config.json"), hub.files(repo, "main").stream().map(FileEntry::path).toList());
            assertEquals(List.of(second.sha(), first.sha()), hub.log(repo, "main", 10).stream().map(CommitInfo::sha).toList());
            assertEquals(List.of(first.sha()), hub.log(repo, "step-10", 10).stream().map(CommitInfo::sha).toList());
        }
    }

    @Test
    void revisionsThatDoNotExistOrAreTooShortAreNotFound() throws IOException {
        try (LocalHub hub = hub()) {
            RepoId repo = RepoId.model("alice/run-1");
            hub.createRepo(repo, false);
            CommitInfo commit = hub.push(repo, Push.files(Map.of("a", write("a", "x")), "one"));
            for (String bad : List.of("nope", commit.sha().substring(0, 6), "0000000", "v1.0")) {
                HubException.NotFound e = assertThrows(HubException.NotFound.class, () -> hub.resolve(repo, bad), bad);
                assertEquals(HubException.Missing.REVISION, e.missing());
            }
            assertEquals(HubException.Missing.ENTRY, assertThrows(HubException.NotFound.class, () -> hub.open(repo, "main", "b")).missing());
            assertEquals(HubException.Missing.REPO, assertThrows(HubException.NotFound.class, () -> hub.resolve(RepoId.model("alice/none"), "main")).missing());
            assertThrows(HubException.Conflict.class, () -> hub.createRepo(repo, true));
            hub.tag(repo, "v1", "main");
            assertThrows(HubException.Conflict.class, () -> hub.tag(repo, "v1", "main"));
        }
    }

    @Test
    void commitShaIsSha1OfTreeParentAuthorTimeAndMessage() throws Exception {
        try (LocalHub hub = hub()) {
            RepoId repo = RepoId.model("alice/run-1");
            hub.createRepo(repo, false);
            CommitInfo first = hub.push(repo, Push.files(Map.of("a", write("a", "x")), "one"));
            CommitInfo second = hub.push(repo, Push.files(Map.of("a", write("a", "y")), "two"));
            String stored = Files.readString(tmp.resolve("hub/repos/models/alice/run-1/commits/" + second.sha()));
            assertTrue(stored.startsWith("tree "), stored);
            assertTrue(stored.contains("\nparent " + first.sha() + "\nauthor tester\ntime " + second.time().toEpochMilli() + "\n\ntwo"), stored);
            byte[] digest = java.security.MessageDigest.getInstance("SHA-1").digest(stored.getBytes(StandardCharsets.UTF_8));
            assertEquals(java.util.HexFormat.of().formatHex(digest), second.sha());
        }
    }

    @Test
    void blobsAreStoredOnceAcrossCommitsAndRepositories() throws IOException {
        try (LocalHub hub = hub()) {
            Path same = write("same", "identical bytes");
            for (String name : List.of("alice/a", "bob/b")) {
                RepoId repo = RepoId.model(name);
                hub.createRepo(repo, false);
                hub.push(repo, Push.files(Map.of("w.bin", same), "first"));
                hub.push(repo, Push.files(Map.of("w.bin", same, "copy.bin", same), "second"));
            }
            try (Stream<Path> blobs = Files.walk(tmp.resolve("hub/blobs"))) {
                assertEquals(1, blobs.filter(Files::isRegularFile).count());
            }
        }
    }

    @Test
    void racingPushesOnOneBranchGiveOneWinnerAndClearConflicts() throws Exception {
        try (LocalHub hub = hub()) {
            RepoId repo = RepoId.model("alice/race");
            hub.createRepo(repo, false);
            String base = hub.push(repo, Push.files(Map.of("f", write("base", "base")), "base")).sha();
            int racers = 8;
            CountDownLatch start = new CountDownLatch(1);
            List<Future<CommitInfo>> results = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(racers)) {
                for (int i = 0; i < racers; i++) {
                    Path file = write("racer" + i, "racer " + i);
                    results.add(pool.submit(() -> {
                        start.await();
                        return hub.push(repo, Push.files(Map.of("f", file), "racer").expecting(base));
                    }));
                }
                start.countDown();
            }
            int wins = 0;
            for (Future<CommitInfo> result : results) {
                try {
                    assertEquals(base, result.get().parent());
                    wins++;
                } catch (java.util.concurrent.ExecutionException e) {
                    HubException.Conflict conflict = assertInstanceOf(HubException.Conflict.class, e.getCause());
                    assertTrue(conflict.getMessage().contains("another push landed first"), conflict.getMessage());
                }
            }
            assertEquals(1, wins);
            assertEquals(2, hub.log(repo, "main", 100).size());
        }
    }

    @Test
    void concurrentPushesWithoutExpectationNeverLoseACommitSilently() throws Exception {
        try (LocalHub hub = hub()) {
            RepoId repo = RepoId.model("alice/race");
            hub.createRepo(repo, false);
            int racers = 6;
            List<Future<CommitInfo>> results = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(racers)) {
                for (int i = 0; i < racers; i++) {
                    Path file = write("r" + i, "r" + i);
                    int n = i;
                    results.add(pool.submit(() -> hub.push(repo, Push.files(Map.of("f" + n, file), "push " + n))));
                }
            }
            List<String> landed = new ArrayList<>();
            for (Future<CommitInfo> result : results) {
                try {
                    landed.add(result.get().sha());
                } catch (java.util.concurrent.ExecutionException e) {
                    assertInstanceOf(HubException.Conflict.class, e.getCause());
                }
            }
            List<String> history = hub.log(repo, "main", 100).stream().map(CommitInfo::sha).toList();
            assertEquals(Set.copyOf(landed), Set.copyOf(history));
            assertEquals(landed.size(), hub.files(repo, "main").size());
        }
    }

    @Test
    void aPushThatFailsMidwayLeavesTheHeadAndGcRemovesWhatItLeft() throws IOException {
        try (LocalHub hub = hub()) {
            RepoId repo = RepoId.model("alice/crash");
            hub.createRepo(repo, false);
            CommitInfo good = hub.push(repo, Push.files(Map.of("a", write("a", "good")), "good"));
            Path vanishing = write("z", "gone");
            Push push = Push.files(Map.of("a", write("a2", "new content stored before the failure"), "z", vanishing), "doomed");
            Files.delete(vanishing);
            assertThrows(HubException.Failure.class, () -> hub.push(repo, push));
            assertEquals(good.sha(), hub.resolve(repo, "main"));
            assertEquals("good", read(hub, repo, "main", "a"));

            GcReport kept = hub.store().gc(Duration.ofHours(1));
            assertEquals(0, kept.blobsRemoved());
            GcReport report = hub.store().gc(Duration.ZERO);
            assertEquals(1, report.blobsRemoved());
            assertEquals(1, report.blobsKept());
            assertEquals("good", read(hub, repo, "main", "a"));
        }
    }

    /** A killed download leaves its bytes in .NAME.incomplete; the next one goes on from there, or starts over if they are wrong. */
    @Test
    void aDownloadResumesFromTheBytesAKilledOneLeft() throws IOException {
        byte[] content = new byte[3_000_000];
        new java.util.Random(5).nextBytes(content);
        try (LocalHub hub = hub()) {
            RepoId repo = RepoId.model("alice/resume");
            hub.createRepo(repo, false);
            Path source = Files.write(tmp.resolve("weights.bin"), content);
            String sha = hub.push(repo, Push.files(Map.of("w.bin", source), "weights")).sha();
            Path target = tmp.resolve("out/w.bin");
            Path part = CheckedDownload.partOf(target);
            assertEquals(tmp.resolve("out/.w.bin.incomplete"), part);

            Files.createDirectories(part.getParent());
            Files.write(part, java.util.Arrays.copyOf(content, 1_000_000));
            List<Long> moved = new ArrayList<>();
            hub.download(repo, sha, "w.bin", target, moved::add);
            assertArrayEquals(content, Files.readAllBytes(target));
            assertFalse(Files.exists(part), "the part became the target");
            assertEquals(1_000_000L, moved.getFirst(), "the kept bytes count first");
            assertEquals(content.length, moved.stream().mapToLong(Long::longValue).sum(), "then the rest, once");

            Files.delete(target);
            Files.write(part, new byte[1_000_000]);
            hub.download(repo, sha, "w.bin", target);
            assertArrayEquals(content, Files.readAllBytes(target), "bytes of another version are dropped and the file fetched whole");
            Files.delete(target);
            Files.write(part, new byte[content.length + 10]);
            hub.download(repo, sha, "w.bin", target);
            assertArrayEquals(content, Files.readAllBytes(target), "kept bytes past the end are dropped too");

            try (var channel = java.nio.channels.FileChannel.open(part, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
                 var lock = channel.lock()) {
                var busy = assertThrows(HubException.Conflict.class, () -> hub.download(repo, sha, "w.bin", tmp.resolve("out/w.bin")));
                assertTrue(busy.getMessage().contains("another download to " + target + " is in progress"), busy.getMessage());
            }
            assertArrayEquals(content, Files.readAllBytes(target), "a refused download leaves the target as it was");
        }
    }

    /** A snapshot cut off after some of its files goes on with the rest: a file already there whole is kept, a wrong one replaced. */
    @Test
    void aSnapshotKeepsTheFilesItAlreadyHolds() throws IOException {
        try (LocalHub hub = hub()) {
            RepoId repo = RepoId.model("alice/shards");
            hub.createRepo(repo, false);
            write("m/a.bin", "shard a");
            write("m/b.bin", "shard b");
            String sha = hub.push(repo, Push.directory(tmp.resolve("src/m"), "two shards")).sha();
            Path dir = Files.createDirectories(tmp.resolve("snap"));
            Path whole = Files.writeString(dir.resolve("a.bin"), "shard a");
            Path wrong = Files.writeString(dir.resolve("b.bin"), "shard x");
            java.nio.file.attribute.FileTime old = java.nio.file.attribute.FileTime.fromMillis(1_000_000_000_000L);
            Files.setLastModifiedTime(whole, old);
            Files.setLastModifiedTime(wrong, old);
            RecordedTransfer told = new RecordedTransfer();
            hub.snapshot(repo, sha, dir, told);
            assertEquals(old, Files.getLastModifiedTime(whole), "a file already there, size and sha256 right, is kept as it is");
            assertEquals("shard b", Files.readString(wrong), "one of the right size but other bytes is replaced");
            assertEquals(List.of("[1/2] a.bin", "a.bin: 7 bytes", "[2/2] b.bin", "b.bin: 7 bytes"), told.events, "both count as moved");
        }
    }

    @Test
    void aStorageFailureSaysWhatFailedInWords() throws IOException {
        try (LocalHub hub = hub()) {
            Path namespace = Files.createDirectories(tmp.resolve("hub/repos/models")).resolve("alice");
            Files.writeString(namespace, "a file where the namespace's folder belongs");
            var e = assertThrows(HubException.Failure.class, () -> hub.createRepo(RepoId.model("alice/blocked"), false));
            assertTrue(e.getMessage().startsWith("hub storage failed: " + namespace), e.getMessage());
            assertFalse(e.getMessage().contains("java."), "a person reads it, not the exception's class: " + e.getMessage());
        }
    }

    @Test
    void contentStoredAgainIsProtectedFromGcWhileItsPushFinishes() throws IOException {
        try (LocalHub hub = hub()) {
            byte[] bytes = "orphan, then pushed again".getBytes(StandardCharsets.UTF_8);
            String sha = hub.store().ingest(new java.io.ByteArrayInputStream(bytes), null, -1, 100).sha256();
            Path blob = tmp.resolve("hub/blobs/" + sha.substring(0, 2) + "/" + sha);
            Files.setLastModifiedTime(blob, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(Duration.ofDays(1))));
            hub.store().ingest(new java.io.ByteArrayInputStream(bytes), sha, bytes.length, 100);
            assertEquals(0, hub.store().gc(Duration.ofHours(1)).blobsRemoved(), "the second ingest renewed the blob's time");
            assertEquals(1, hub.store().gc(Duration.ZERO).blobsRemoved());
        }
    }

    /**
     * Branches and tags are made and removed as the Hub's create_branch, delete_branch and delete_tag do; main stays.
     * A deleted repository is gone whole (a new one of its name starts empty), while blobs another repository shares
     * survive gc and its own go.
     */
    @Test
    void branchesTagsVisibilityAndRepositoriesChangeAndGo() throws IOException {
        try (LocalHub hub = hub()) {
            RepoId doomed = RepoId.model("alice/doomed"), kept = RepoId.model("alice/kept");
            hub.createRepo(doomed, false);
            hub.createRepo(kept, false);
            CommitInfo first = hub.push(doomed, Push.files(Map.of("shared", write("s", "shared bytes"), "own", write("o", "only here")), "one"));
            hub.push(doomed, Push.files(Map.of("own", write("o2", "also only here")), "two"));
            hub.push(kept, Push.files(Map.of("shared", write("s", "shared bytes")), "same content"));

            hub.createBranch(doomed, "experiment", first.sha());
            assertEquals(first.sha(), hub.resolve(doomed, "experiment"));
            assertThrows(HubException.Conflict.class, () -> hub.createBranch(doomed, "experiment", "main"));
            hub.tag(doomed, "v1", "main");
            hub.deleteTag(doomed, "v1");
            hub.deleteBranch(doomed, "experiment");
            assertEquals(List.of("main"), hub.refs(doomed).stream().map(Ref::name).toList());
            assertEquals(HubException.Missing.REVISION, assertThrows(HubException.NotFound.class, () -> hub.deleteTag(doomed, "v1")).missing());
            assertEquals(HubException.Missing.REVISION, assertThrows(HubException.NotFound.class, () -> hub.deleteBranch(doomed, "nope")).missing());
            assertEquals("branch 'main' of alice/doomed is the default branch and cannot be deleted",
                    assertThrows(HubException.Invalid.class, () -> hub.deleteBranch(doomed, "main")).getMessage());

            assertTrue(hub.setPrivate(doomed, true).isPrivate());
            assertTrue(hub.repoInfo(doomed).orElseThrow().isPrivate());
            assertEquals(first.sha(), hub.log(doomed, "main", 2).get(1).sha(), "visibility changes nothing else");
            assertFalse(hub.setPrivate(doomed, false).isPrivate());
            assertEquals(HubException.Missing.REPO, assertThrows(HubException.NotFound.class, () -> hub.setPrivate(RepoId.model("alice/none"), true)).missing());

            hub.deleteRepo(doomed);
            assertTrue(hub.repoInfo(doomed).isEmpty());
            assertEquals(List.of(kept), hub.listRepos(RepoType.MODEL).stream().map(RepoInfo::id).toList());
            assertEquals(HubException.Missing.REPO, assertThrows(HubException.NotFound.class, () -> hub.deleteRepo(doomed)).missing());
            hub.createRepo(doomed, false);
            assertNull(hub.repoInfo(doomed).orElseThrow().head(), "a repository made again under the name starts empty");
            assertTrue(hub.refs(doomed).isEmpty());

            GcReport gc = hub.store().gc(Duration.ZERO);
            assertEquals(2, gc.blobsRemoved(), "the deleted repository's own files");
            assertEquals("shared bytes", read(hub, kept, "main", "shared"));
        }
    }

    @Test
    void gcRemovesWhatNoBranchOrTagReaches() throws IOException {
        try (LocalHub hub = hub()) {
            RepoId repo = RepoId.model("alice/gc");
            hub.createRepo(repo, false);
            hub.push(repo, Push.files(Map.of("a", write("a", "v1")), "one"));
            CommitInfo tagged = hub.push(repo, Push.files(Map.of("a", write("a", "v2")), "two"));
            hub.tag(repo, "keep", tagged.sha());
            hub.push(repo, Push.files(Map.of("a", write("a", "v3")), "three"));
            GcReport report = hub.store().gc(Duration.ZERO);
            assertEquals(0, report.blobsRemoved(), "every commit is reachable from main");
            assertEquals(3, report.blobsKept());
            assertEquals("v1", read(hub, repo, hub.log(repo, "main", 3).get(2).sha(), "a"));
        }
    }

    @Test
    void badNamesAndPathsAreRejected() throws IOException {
        for (String bad : List.of("a/../b", "../x", "/etc/passwd", "a\\b", "a\0b", "a//b", "./a", "a/", "line\nbreak")) {
            assertThrows(HubException.Invalid.class, () -> HubPaths.checkPath(bad), bad);
        }
        for (String bad : List.of("alice", "a/b/c", "al ice/x", "alice/..", "alice/x$", "../x", "ali%2fce/x")) {
            assertThrows(HubException.Invalid.class, () -> RepoId.model(bad), bad);
        }
        try (LocalHub hub = hub()) {
            RepoId repo = RepoId.model("alice/names");
            hub.createRepo(repo, false);
            Path file = write("f", "x");
            assertThrows(HubException.Invalid.class, () -> hub.push(repo, Push.files(Map.of("../escape", file), "m")));
            assertThrows(HubException.Invalid.class, () -> hub.push(repo, Push.files(Map.of("f", file), "m").onBranch("../main")));
            assertThrows(HubException.Invalid.class, () -> hub.push(repo, Push.files(Map.of("f", file), " ")));
        }
    }

    @Test
    void contentThatDoesNotMatchItsDeclaredHashOrSizeIsNotStored() throws IOException {
        try (HubStore store = Hubs.local(tmp.resolve("hub"))) {
            byte[] bytes = "payload".getBytes(StandardCharsets.UTF_8);
            String sha = dev.pricer.hub.store.Hashing.sha256(bytes);
            String wrongSha = dev.pricer.hub.store.Hashing.sha256("other".getBytes(StandardCharsets.UTF_8));
            assertThrows(HubException.Invalid.class, () -> store.ingest(new java.io.ByteArrayInputStream(bytes), wrongSha, bytes.length, 100));
            assertThrows(HubException.Invalid.class, () -> store.ingest(new java.io.ByteArrayInputStream(bytes), sha, bytes.length + 1, 100));
            assertThrows(HubException.Invalid.class, () -> store.ingest(new java.io.ByteArrayInputStream(bytes), sha, bytes.length - 1, 100));
            assertThrows(HubException.TooLarge.class, () -> store.ingest(new java.io.ByteArrayInputStream(bytes), null, -1, 3));
            assertThrows(HubException.Invalid.class, () -> store.ingest(new java.io.ByteArrayInputStream(bytes), "not-a-sha", -1, 100));
            assertTrue(store.blob(sha).isEmpty());
            try (Stream<Path> staged = Files.list(tmp.resolve("hub/tmp"))) {
                assertEquals(0, staged.count(), "no temporary file is left behind");
            }
            assertEquals(bytes.length, store.ingest(new java.io.ByteArrayInputStream(bytes), sha, bytes.length, 100).size());
            assertFalse(store.blob(sha).isEmpty());
        }
    }

    @Test
    void downloadsAndSnapshotsWriteCheckedFiles() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertTrue(assertThrows(HubException.Invalid.class, () -> Push.directory(empty, "nothing")).getMessage().contains("no files"));
        try (LocalHub hub = hub()) {
            RepoId repo = RepoId.model("alice/snap2");
            hub.createRepo(repo, false);
            write("d/x.txt", "x");
            write("d/sub/y.txt", "y".repeat(300_000));
            RecordedTransfer pushed = new RecordedTransfer();
            String sha = hub.push(repo, Push.directory(tmp.resolve("src/d"), "dir"), pushed).sha();
            assertEquals(List.of("[1/2] sub/y.txt", "sub/y.txt: 300000 bytes", "[2/2] x.txt", "x.txt: 1 bytes"), pushed.events,
                "each file as it starts, and all of its bytes");
            Path out = tmp.resolve("out");
            assertEquals(sha, hub.snapshot(repo, "main", out));
            assertArrayEquals("y".repeat(300_000).getBytes(StandardCharsets.UTF_8), Files.readAllBytes(out.resolve("sub/y.txt")));
            assertEquals("x", Files.readString(hub.download(repo, sha.substring(0, 8), "x.txt", tmp.resolve("one/x.txt"))));
            RecordedTransfer downloaded = new RecordedTransfer();
            assertEquals(sha, hub.snapshot(repo, "main", tmp.resolve("out2"), downloaded));
            assertEquals(pushed.events, downloaded.events, "each file as it starts, and all of its bytes");
            assertEquals("x", Files.readString(tmp.resolve("out2/x.txt")));
        }
        assertEquals("4.98 GB", FileEntry.readable(4_980_000_000L));
        assertEquals("47.6 kB", FileEntry.readable(47_600));
        assertEquals("999 B", FileEntry.readable(999));
    }

    private static <T> T assertInstanceOf(Class<T> type, Object value) {
        return org.junit.jupiter.api.Assertions.assertInstanceOf(type, value);
    }
}
