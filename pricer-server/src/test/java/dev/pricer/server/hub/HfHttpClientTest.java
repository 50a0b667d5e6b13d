package dev.pricer.server.hub;

import dev.pricer.hub.CheckedDownload;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.FileEntry;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.HubException;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.Push;
import dev.pricer.hub.RecordedTransfer;
import dev.pricer.hub.Ref;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.RepoInfo;
import dev.pricer.hub.RepoType;
import dev.pricer.hub.store.Hashing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pricer's own HF-protocol client against Pricer's server: the path the trainer takes to push to a remote hub. */
class HfHttpClientTest {

    @TempDir
    Path tmp;

    private static final HubLimits SMALL_LFS = new HubLimits(1024, 64 * 1024, 1 << 20, 1 << 20);

    private Path file(String name, byte[] content) throws IOException {
        Path file = tmp.resolve("src").resolve(name);
        Files.createDirectories(file.getParent());
        return Files.write(file, content);
    }

    private static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Test
    void pushesThroughLfsAndReadsBackEveryRevision() throws IOException {
        try (HubServerFixture fixture = new HubServerFixture(tmp.resolve("hub"), SMALL_LFS);
             HubClient hub = Hubs.remote(fixture.uri(), HubServerFixture.ALICE)) {
            RepoId repo = RepoId.model("alice/run-1");
            RepoInfo created = hub.createRepo(repo, false);
            assertNull(created.head());
            assertThrows(HubException.Conflict.class, () -> hub.createRepo(repo, false));
            assertEquals(created.id(), hub.ensureRepo(repo, false).id());

            byte[] big1 = random(50_000, 1), big2 = random(60_000, 2);
            RecordedTransfer pushed = new RecordedTransfer();
            CommitInfo first = hub.push(repo, Push.files(Map.of("adapter_model.safetensors", file("w1", big1), "adapter_config.json", file("c", "{\"r\":32}".getBytes())), "step 10"), pushed);
            assertEquals(List.of("[1/1] adapter_model.safetensors", "adapter_model.safetensors: 50000 bytes"), pushed.events,
                "the LFS upload, every byte of it; the small file goes inline in the commit");
            hub.tag(repo, "step-10", first.sha());
            CommitInfo second = hub.push(repo, Push.files(Map.of("adapter_model.safetensors", file("w2", big2)), "step 20\n\nloss 1.2").deleting(java.util.Set.of("adapter_config.json")));

            assertEquals("alice", second.author());
            assertEquals("step 20\n\nloss 1.2", second.message());
            assertEquals(first.sha(), second.parent());
            assertEquals(second.sha(), hub.resolve(repo, "main"));
            assertEquals(first.sha(), hub.resolve(repo, "step-10"));
            assertEquals(first.sha(), hub.resolve(repo, first.sha().substring(0, 7)));
            assertEquals(second.sha(), hub.repoInfo(repo).orElseThrow().head());
            List<FileEntry> files = hub.files(repo, "step-10");
            assertEquals(List.of("adapter_config.json", "adapter_model.safetensors"), files.stream().map(FileEntry::path).toList());
            assertEquals(Hashing.sha256(big1), files.get(1).sha256());
            assertEquals(List.of("adapter_model.safetensors"), hub.files(repo, "main").stream().map(FileEntry::path).toList());
            try (InputStream in = hub.open(repo, "step-10", "adapter_model.safetensors")) {
                assertArrayEquals(big1, in.readAllBytes());
            }
            assertArrayEquals(big2, Files.readAllBytes(hub.download(repo, "main", "adapter_model.safetensors", tmp.resolve("out/w.bin"))));
            Path snapshot = tmp.resolve("snap");
            RecordedTransfer downloaded = new RecordedTransfer();
            assertEquals(first.sha(), hub.snapshot(repo, "step-10", snapshot, downloaded));
            assertEquals(List.of("[1/2] adapter_config.json", "adapter_config.json: 8 bytes",
                "[2/2] adapter_model.safetensors", "adapter_model.safetensors: 50000 bytes"), downloaded.events);
            assertArrayEquals(big1, Files.readAllBytes(snapshot.resolve("adapter_model.safetensors")));
            assertEquals("{\"r\":32}", Files.readString(snapshot.resolve("adapter_config.json")));
            assertEquals(List.of(second.sha(), first.sha()), hub.log(repo, "main", 10).stream().map(CommitInfo::sha).toList());
            assertTrue(hub.refs(repo).contains(new Ref(Ref.Kind.TAG, "step-10", first.sha())));
            assertEquals(List.of(repo), hub.listRepos(RepoType.MODEL).stream().map(RepoInfo::id).toList());

            assertEquals(0, fixture.store.gc(java.time.Duration.ZERO).blobsRemoved(), "every blob is still referenced");
            RecordedTransfer again = new RecordedTransfer();
            CommitInfo same = hub.push(repo, Push.files(Map.of("again.safetensors", file("w2b", big2)), "same bytes again"), again);
            assertEquals(second.sha(), same.parent());
            assertEquals(List.of(), again.events, "the server has those bytes: nothing to upload");
        }
    }

    /** Over HTTP a download resumes with a Range request from what a killed one left; kept bytes past the end start it over. */
    @Test
    void aDownloadResumesWithARangeRequest() throws IOException {
        try (HubServerFixture fixture = new HubServerFixture(tmp.resolve("hub"), SMALL_LFS);
             HubClient hub = Hubs.remote(fixture.uri(), HubServerFixture.ALICE)) {
            RepoId repo = RepoId.model("alice/resume");
            hub.createRepo(repo, false);
            byte[] weights = random(60_000, 7);
            String sha = hub.push(repo, Push.files(Map.of("w.bin", file("w", weights)), "weights")).sha();
            Path target = tmp.resolve("resumed/w.bin");
            Files.createDirectories(target.getParent());
            Files.write(CheckedDownload.partOf(target), java.util.Arrays.copyOf(weights, 20_000));
            List<Long> moved = new java.util.ArrayList<>();
            hub.download(repo, sha, "w.bin", target, moved::add);
            assertArrayEquals(weights, Files.readAllBytes(target));
            assertEquals(20_000L, moved.getFirst(), "the kept bytes");
            assertEquals(40_000L, moved.stream().skip(1).mapToLong(Long::longValue).sum(), "only the rest came over the wire");

            Files.write(CheckedDownload.partOf(target), new byte[70_000]);
            hub.download(repo, sha, "w.bin", target);
            assertArrayEquals(weights, Files.readAllBytes(target), "a 416 for bytes past the end: the file comes whole");
            assertFalse(Files.exists(CheckedDownload.partOf(target)));
            Path missing = tmp.resolve("resumed/none.bin");
            assertThrows(HubException.NotFound.class, () -> hub.download(repo, sha, "none.bin", missing));
            assertFalse(Files.exists(CheckedDownload.partOf(missing)), "a download that got nothing leaves nothing");
        }
    }

    @Test
    void errorsComeBackAsTheirKinds() throws IOException {
        try (HubServerFixture fixture = new HubServerFixture(tmp.resolve("hub"), SMALL_LFS);
             HubClient alice = Hubs.remote(fixture.uri(), HubServerFixture.ALICE);
             HubClient bob = Hubs.remote(fixture.uri(), HubServerFixture.BOB);
             HubClient anonymous = Hubs.remote(fixture.uri(), null)) {
            RepoId secret = RepoId.model("alice/secret");
            alice.createRepo(secret, true);
            alice.push(secret, Push.files(Map.of("a.txt", file("a", "hi".getBytes())), "one"));
            assertTrue(bob.repoInfo(secret).isEmpty());
            assertTrue(anonymous.repoInfo(secret).isEmpty());
            assertEquals(HubException.Missing.REPO, assertThrows(HubException.NotFound.class, () -> bob.files(secret, "main")).missing());
            assertEquals(HubException.Missing.REPO, assertThrows(HubException.NotFound.class, () -> bob.open(secret, "main", "a.txt")).missing());
            assertEquals(HubException.Missing.REVISION, assertThrows(HubException.NotFound.class, () -> alice.resolve(secret, "nope")).missing());
            assertEquals(HubException.Missing.ENTRY, assertThrows(HubException.NotFound.class, () -> alice.open(secret, "main", "b.txt")).missing());
            assertThrows(HubException.Unauthorized.class, () -> anonymous.createRepo(RepoId.model("alice/x"), false));
            assertThrows(HubException.Forbidden.class, () -> bob.createRepo(RepoId.model("alice/x"), false));
            RepoId open = RepoId.model("team/open");
            alice.createRepo(open, false);
            assertFalse(anonymous.repoInfo(open).orElseThrow().isPrivate());
            assertThrows(HubException.Forbidden.class, () -> bob.push(open, Push.files(Map.of("a", file("b", "b".getBytes())), "bob was here")));
            String head = alice.push(open, Push.files(Map.of("a", file("c", "c".getBytes())), "one")).sha();
            alice.push(open, Push.files(Map.of("a", file("d", "d".getBytes())), "two"));
            assertThrows(HubException.Conflict.class, () -> alice.push(open, Push.files(Map.of("a", file("e", "e".getBytes())), "stale").expecting(head)));
        }
    }

    /** delete_repo, create_branch, delete_branch and delete_tag over HTTP, for members of the namespace only. */
    @Test
    void branchesTagsVisibilityAndDeletionAreForMembersOnly() throws IOException {
        try (HubServerFixture fixture = new HubServerFixture(tmp.resolve("hub"), SMALL_LFS);
             HubClient alice = Hubs.remote(fixture.uri(), HubServerFixture.ALICE);
             HubClient bob = Hubs.remote(fixture.uri(), HubServerFixture.BOB);
             HubClient anonymous = Hubs.remote(fixture.uri(), null)) {
            RepoId repo = RepoId.model("alice/run-2");
            alice.createRepo(repo, false);
            String first = alice.push(repo, Push.files(Map.of("a", file("a", "one".getBytes())), "one")).sha();
            alice.push(repo, Push.files(Map.of("a", file("b", "two".getBytes())), "two"));

            alice.createBranch(repo, "lower-lr", first.substring(0, 7));
            assertEquals(first, alice.resolve(repo, "lower-lr"));
            assertThrows(HubException.Conflict.class, () -> alice.createBranch(repo, "lower-lr", "main"));
            assertThrows(HubException.Forbidden.class, () -> bob.createBranch(repo, "bobs", "main"));
            alice.tag(repo, "v1", "main");
            assertThrows(HubException.Forbidden.class, () -> bob.deleteTag(repo, "v1"));
            assertThrows(HubException.Unauthorized.class, () -> anonymous.deleteBranch(repo, "lower-lr"));
            alice.deleteTag(repo, "v1");
            alice.deleteBranch(repo, "lower-lr");
            assertEquals(List.of("main"), alice.refs(repo).stream().map(Ref::name).toList());
            assertEquals(HubException.Missing.REVISION, assertThrows(HubException.NotFound.class, () -> alice.deleteTag(repo, "v1")).missing());
            assertThrows(HubException.Invalid.class, () -> alice.deleteBranch(repo, "main"));

            assertThrows(HubException.Forbidden.class, () -> bob.setPrivate(repo, true));
            assertTrue(alice.setPrivate(repo, true).isPrivate());
            assertTrue(anonymous.repoInfo(repo).isEmpty() && bob.repoInfo(repo).isEmpty(), "private: members of alice only");
            assertFalse(alice.setPrivate(repo, false).isPrivate());
            assertTrue(anonymous.repoInfo(repo).isPresent());

            assertThrows(HubException.Forbidden.class, () -> bob.deleteRepo(repo));
            assertTrue(anonymous.repoInfo(repo).isPresent(), "a refused delete changes nothing");
            alice.deleteRepo(repo);
            assertTrue(alice.repoInfo(repo).isEmpty());
            assertEquals(HubException.Missing.REPO, assertThrows(HubException.NotFound.class, () -> alice.deleteRepo(repo)).missing());
            RepoId secret = RepoId.model("alice/secret");
            alice.createRepo(secret, true);
            assertEquals(HubException.Missing.REPO, assertThrows(HubException.NotFound.class, () -> bob.deleteRepo(secret)).missing(),
                "a private repository is not there for those who may not read it");
        }
    }

    @Test
    void huggingFaceEndpointAndTokenComeFromTheEnvironment() throws IOException {
        try (HubServerFixture fixture = new HubServerFixture(tmp.resolve("hub"), SMALL_LFS)) {
            RepoId repo = RepoId.model("alice/private-base");
            try (HubClient alice = Hubs.remote(fixture.uri(), HubServerFixture.ALICE)) {
                alice.createRepo(repo, true);
                alice.push(repo, Push.files(Map.of("model.safetensors", file("m", random(5000, 3)), "config.json", file("j", "{}".getBytes())), "base"));
            }
            try (HubClient hf = Hubs.huggingFace(Map.of("HF_ENDPOINT", fixture.uri().toString(), "HF_TOKEN", HubServerFixture.ALICE))) {
                hf.snapshot(repo, "main", tmp.resolve("base"));
                assertArrayEquals(random(5000, 3), Files.readAllBytes(tmp.resolve("base/model.safetensors")));
            }
            try (HubClient noToken = Hubs.huggingFace(Map.of("HF_ENDPOINT", fixture.uri().toString()))) {
                assertThrows(HubException.NotFound.class, () -> noToken.snapshot(repo, "main", tmp.resolve("nope")));
            }
        }
    }

    @Test
    void downloadsFollowRedirectsToAnotherOriginWithoutTheTokenAndCheckTheLinkedHash() throws IOException {
        try (HubServerFixture fixture = new HubServerFixture(tmp.resolve("hub"), SMALL_LFS)) {
            byte[] weights = random(4000, 5);
            RepoId open = RepoId.model("alice/open"), secret = RepoId.model("alice/secret");
            try (HubClient alice = Hubs.remote(fixture.uri(), HubServerFixture.ALICE)) {
                for (RepoId repo : List.of(open, secret)) {
                    alice.createRepo(repo, repo == secret);
                    alice.push(repo, Push.files(Map.of("w.bin", file("w", weights)), "one"));
                }
            }
            String[] announced = {Hashing.sha256(weights)};
            dev.pricer.server.ServerModule cdnFront = config -> config.routes.get("/{ns}/{name}/resolve/{rev}/<path>", ctx -> {
                ctx.header("X-Linked-Etag", "\"" + announced[0] + "\"").header("X-Linked-Size", Integer.toString(weights.length));
                ctx.redirect(fixture.uri() + ctx.path(), io.javalin.http.HttpStatus.FOUND);
            });
            try (dev.pricer.server.PricerServer front = dev.pricer.server.PricerServer.start("127.0.0.1", 0, List.of(cdnFront));
                 HubClient viaFront = Hubs.remote(java.net.URI.create("http://127.0.0.1:" + front.port()), HubServerFixture.ALICE)) {
                assertArrayEquals(weights, Files.readAllBytes(viaFront.download(open, "main", "w.bin", tmp.resolve("a/w.bin"))));
                assertThrows(HubException.NotFound.class, () -> viaFront.download(secret, "main", "w.bin", tmp.resolve("b/w.bin")),
                    "the token is not sent to the other origin");
                announced[0] = Hashing.sha256("something else".getBytes());
                assertThrows(HubException.Invalid.class, () -> viaFront.download(open, "main", "w.bin", tmp.resolve("c/w.bin")));
                assertFalse(Files.exists(tmp.resolve("c/w.bin")), "a download that fails its check leaves no file");
            }
        }
    }
}
