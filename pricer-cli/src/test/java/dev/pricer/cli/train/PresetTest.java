package dev.pricer.cli.train;

import dev.pricer.cli.PricerCommand;
import dev.pricer.cli.progress.TransferBar;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.eval.checkpoint.LocatedBase;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.Push;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.TransferProgress;
import dev.pricer.hub.store.HubStore;
import dev.pricer.server.Access;
import dev.pricer.server.PricerServer;
import dev.pricer.server.hub.HubLimits;
import dev.pricer.server.hub.HubModule;
import dev.pricer.track.store.TrackStore;
import dev.pricer.train.config.LrSchedulerType;
import dev.pricer.train.config.TrainingArguments;
import dev.pricer.train.config.TrainingArgumentsIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PresetTest {

    @Test
    void theCoursePresetHoldsTheCoursesSettings() {
        TrainingArguments a = TrainingArgumentsIO.load(null, Preset.COURSE.under(Map.of()));
        assertEquals("hf:meta-llama/Llama-3.1-8B", Preset.COURSE.base());
        assertEquals("nf4", a.quantize(), "QLoRA: the base in NF4");
        assertEquals(32, a.loraR());
        assertEquals(64.0, a.loraAlpha());
        assertEquals(0.1, a.loraDropout());
        assertEquals(List.of("q_proj", "k_proj", "v_proj", "o_proj"), a.loraTargetModules());
        assertEquals(1.0, a.numTrainEpochs());
        assertEquals(-1, a.maxSteps());
        assertEquals(4, a.perDeviceTrainBatchSize());
        assertEquals(1, a.gradientAccumulationSteps());
        assertEquals(1e-4, a.learningRate());
        assertEquals(LrSchedulerType.COSINE, a.lrSchedulerType());
        assertEquals(0.03, a.warmupRatio());
        assertEquals(0, a.warmupSteps());
        assertEquals(182, a.maxSeqLength());
        assertEquals(2000, a.saveSteps());
        assertEquals(50, a.loggingSteps());
        assertTrue(a.usePeft());
        TrainingArguments defaults = TrainingArguments.defaults();
        assertEquals(defaults.weightDecay(), a.weightDecay(), "the rest keeps Hugging Face's defaults");
        assertEquals(defaults.maxGradNorm(), a.maxGradNorm());
    }

    @Test
    void aFlagWinsOverThePreset() {
        assertEquals(2e-4, TrainingArgumentsIO.load(null, Preset.COURSE.under(Map.of("learning_rate", "2e-4"))).learningRate());
        assertThrows(IllegalArgumentException.class, () -> Preset.parse("notebook"));
    }

    @Test
    void theCoursePresetTrainsOnAnNf4Base(@TempDir Path dir) throws Exception {
        Path fixture = Path.of(PresetTest.class.getResource("/hf-tiny-llama/tiny-llama/config.json").toURI()).getParent();
        Path base = Files.createDirectories(dir.resolve("tiny-llama"));
        for (String f : new String[]{"config.json", "model.safetensors"}) Files.copy(fixture.resolve(f), base.resolve(f));
        Files.copy(Path.of(PresetTest.class.getResource("/tokenizers/byte-tokenizer.json").toURI()), base.resolve("tokenizer.json"));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 8; i++) lines.add("{\"text\":\"item " + i + "\",\"price\":" + (3 + i * 13) + "}");
        Path data = Files.write(dir.resolve("items.jsonl"), lines);
        StringWriter err = new StringWriter();
        var cmd = PricerCommand.create();
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute("train", "--preset", "course", "--base", base.toString(), "--data", data.toString(),
                "--max-steps", "1", "--validation-split-percentage", "0", "--gradient-checkpointing",
                "--home", dir.resolve("home").toString(), "--project", "p", "--name", "course", "--no-track", "--no-push");
        assertEquals(0, code, err.toString());
        Path args = dir.resolve("home/runs/p/course/checkpoint-1").resolve(dev.pricer.train.loop.Trainer.ARGS_FILE);
        TrainingArguments saved = TrainingArgumentsIO.read(args);
        assertEquals("nf4", saved.quantize());
        assertTrue(saved.gradientCheckpointing());
    }

    @Test
    void anHfBaseIsDownloadedOnceThroughTheHuggingFaceProtocol(@TempDir Path dir) throws Exception {
        Path model = Path.of(PresetTest.class.getResource("/hf-tiny-llama/tiny-llama/config.json").toURI()).getParent();
        HubStore store = Hubs.local(dir.resolve("server-hub"));
        RepoId repo = RepoId.model("owner/tiny");
        Path large = Files.write(dir.resolve("large.bin"), new byte[1_200_000]);
        String sha;
        try (LocalHub local = new LocalHub(store, "owner")) {
            local.ensureRepo(repo, false);
            sha = local.push(repo, Push.files(Map.of("config.json", model.resolve("config.json"),
                    "model.safetensors", model.resolve("model.safetensors"), "large.bin", large), "tiny llama")).sha();
        }
        Path home = dir.resolve("home");
        LocatedBase downloaded;
        try (TrackStore tokens = TrackStore.openHome(dir.resolve("server-home"));
             PricerServer server = PricerServer.start("127.0.0.1", 0, List.of(new HubModule(store, new Access(tokens, false), HubLimits.DEFAULT)))) {
            Map<String, String> env = Map.of("HF_ENDPOINT", "http://127.0.0.1:" + server.port(), "PRICER_HOME", home.toString());
            List<String> said = new ArrayList<>();
            StringWriter bars = new StringWriter();
            TransferBar transfer = TransferBar.on(new PrintWriter(bars));
            LocatedBase got = BaseModels.resolve("hf:owner/tiny", home, env, said::add, transfer);
            assertEquals(new BaseModelRef("owner/tiny", sha), got.ref(), "PEFT's name and the commit, so that any machine finds this base");
            assertArrayEquals(Files.readAllBytes(model.resolve("model.safetensors")), Files.readAllBytes(got.dir().resolve("model.safetensors")));
            assertEquals(LlamaConfig.read(model), LlamaConfig.read(got.dir()));
            assertEquals(1, said.size(), "where from: " + said);
            assertEquals(List.of("[2/3] large.bin: 1.2 MB of 1.2 MB (100%)"), bars.toString().lines().toList(),
                "a bar for the large file, a line at its end as a log is no terminal");
            assertEquals(got, BaseModels.resolve("hf:owner/tiny@main", home, env, said::add, transfer), "the same commit");
            assertEquals(got, BaseModels.resolve("owner/tiny", home, env, said::add, transfer), "a name Pricer's hub lacks comes from the Hub");
            assertEquals(1, said.size(), "downloaded once: " + said);
            var missing = assertThrows(RuntimeException.class, () -> BaseModels.resolve("hf:owner/absent", home, env, said::add, transfer));
            assertTrue(missing.getMessage().contains("owner/absent"), missing.getMessage());
            downloaded = got;
        }

        // The server is gone: the snapshot downloaded before serves, by branch or by its commit, and says so.
        Map<String, String> offline = Map.of("HF_ENDPOINT", "http://127.0.0.1:" + freePort(), "PRICER_HOME", home.toString());
        List<String> notes = new ArrayList<>();
        assertEquals(downloaded, BaseModels.resolve("hf:owner/tiny", home, offline, notes::add, TransferProgress.NONE));
        assertEquals(downloaded, BaseModels.resolve("hf:owner/tiny@" + sha, home, offline, notes::add, TransferProgress.NONE));
        assertEquals(2, notes.size(), notes.toString());
        assertTrue(notes.getFirst().startsWith("cannot reach " + offline.get("HF_ENDPOINT") + ": using owner/tiny as downloaded before"), notes.toString());
        assertThrows(RuntimeException.class, () -> BaseModels.resolve("hf:owner/never-downloaded", home, offline, notes::add, TransferProgress.NONE));
        assertThrows(RuntimeException.class, () -> BaseModels.resolve("hf:owner/tiny@" + "0".repeat(40), home, offline, notes::add, TransferProgress.NONE),
                "a commit that was never downloaded is not replaced by another");
        var nowhere = assertThrows(IllegalArgumentException.class, () -> BaseModels.resolve("no/such-model", home, offline, notes::add, TransferProgress.NONE));
        assertTrue(nowhere.getMessage().startsWith("the base model 'no/such-model' is not a folder, the hub has no such repository, and from the Hugging Face Hub: "),
                nowhere.getMessage());
    }

    /** A base in Pricer's own hub is named by its repository and commit; a folder by its path, which only this machine knows. */
    @Test
    void aBaseInThePricerHubIsNamedByItsRepositoryAndAFolderByItsPath(@TempDir Path dir) throws Exception {
        Path model = Path.of(PresetTest.class.getResource("/hf-tiny-llama/tiny-llama/config.json").toURI()).getParent();
        Path home = dir.resolve("home");
        RepoId repo = RepoId.model("shop/tiny-base");
        String sha;
        try (LocalHub hub = new LocalHub(Hubs.local(home.resolve("hub")), "shop")) {
            hub.ensureRepo(repo, false);
            sha = hub.push(repo, Push.directory(model, "tiny base")).sha();
        }
        Map<String, String> env = Map.of("PRICER_HOME", home.toString(), "HF_ENDPOINT", "http://127.0.0.1:" + freePort());
        LocatedBase fromHub = BaseModels.resolve("shop/tiny-base@" + sha.substring(0, 7), home, env, line -> { }, TransferProgress.NONE);
        assertEquals(new BaseModelRef("shop/tiny-base", sha), fromHub.ref());
        assertEquals(LlamaConfig.read(model), LlamaConfig.read(fromHub.dir()));
        assertTrue(fromHub.dir().startsWith(home.resolve("cache")), fromHub.dir().toString());
        assertEquals(LocatedBase.folder(model), BaseModels.resolve(model.toString(), home, env, line -> { }, TransferProgress.NONE));
        assertEquals(model.toAbsolutePath().normalize().toString(), LocatedBase.folder(model).ref().nameOrPath());
        var typo = assertThrows(IllegalArgumentException.class, () -> BaseModels.resolve("./no-such-model", home, env, line -> { }, TransferProgress.NONE));
        assertTrue(typo.getMessage().startsWith("the base model './no-such-model' is neither a folder nor a hub model: "), typo.getMessage());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
