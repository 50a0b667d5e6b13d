package dev.pricer.cli.data;

import dev.pricer.cli.server.ServerCommand;
import dev.pricer.hub.HubException;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.Push;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.TransferProgress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@code --data} as a dataset repository: of the Hugging Face Hub (here our server at HF_ENDPOINT) or of Pricer's own hub. */
class HubDatasetsTest {

    @TempDir
    Path dir;

    @Test
    void aDatasetRepositoryIsDownloadedOnceByCommitAndAFolderIsTakenAsItIs() throws Exception {
        Path server = dir.resolve("server");
        RepoId repo = RepoId.parse("datasets/ed/pricer-data");
        Path split = Files.writeString(Files.createDirectories(dir.resolve("src")).resolve("train.jsonl"), "{\"text\":\"kettle\",\"price\":3}\n");
        String sha;
        try (LocalHub hub = new LocalHub(Hubs.local(server.resolve("hub")), "ed")) {
            hub.ensureRepo(repo, false);
            sha = hub.push(repo, Push.files(Map.of("data/train-00000-of-00001.jsonl", split), "the train split")).sha();
        }
        try (ServerCommand.Running running = ServerCommand.start("127.0.0.1", 0, server, false)) {
            Map<String, String> env = Map.of("HF_ENDPOINT", "http://127.0.0.1:" + running.server().port());
            Path home = dir.resolve("home");
            List<String> notes = new ArrayList<>();
            HubDatasets.Located located = HubDatasets.locate("hf:datasets/ed/pricer-data", home, () -> { throw new AssertionError("not Pricer's hub"); },
                    env, notes::add, TransferProgress.NONE);
            assertEquals("hf:datasets/ed/pricer-data@" + sha, located.label());
            assertEquals(home.resolve("cache/datasets/ed/pricer-data").resolve(sha), located.path());
            assertEquals("{\"text\":\"kettle\",\"price\":3}\n", Files.readString(located.path().resolve("data/train-00000-of-00001.jsonl")));
            assertEquals(List.of("dataset hf:datasets/ed/pricer-data@" + sha + " in " + located.path()), notes);
            assertEquals("ed/pricer-data", HubDatasets.boardName("hf:datasets/ed/pricer-data"));

            HubDatasets.Located again = HubDatasets.locate("datasets/ed/pricer-data@" + sha.substring(0, 7), home,
                    () -> Hubs.remote(java.net.URI.create(env.get("HF_ENDPOINT")), null), Map.of(), n -> { }, TransferProgress.NONE);
            assertEquals(located.path(), again.path(), "the same commit, cached once");
            assertEquals(HubException.Missing.REPO, assertThrows(HubException.NotFound.class, () -> HubDatasets.locate("hf:datasets/ed/nothing", home,
                    () -> null, env, n -> { }, TransferProgress.NONE)).missing());
        }
        HubDatasets.Located folder = HubDatasets.locate(dir.resolve("src").toString(), dir, () -> { throw new AssertionError(); }, Map.of(), n -> { },
                TransferProgress.NONE);
        assertEquals(dir.resolve("src"), folder.path());
        assertEquals("src", HubDatasets.boardName(dir.resolve("src").toString()));
        assertEquals("repository 'only-a-name' must be namespace/name", assertThrows(HubException.Invalid.class,
                () -> HubDatasets.locate("datasets/only-a-name", dir, () -> null, Map.of(), n -> { }, TransferProgress.NONE)).getMessage());
    }
}
