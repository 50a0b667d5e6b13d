package dev.pricer.cli.train;

import dev.pricer.cli.PricerCommand;
import dev.pricer.cli.progress.TransferBar;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.hub.FileEntry;
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
        try (LocalHub local = new LocalHub(store, "owner")) {
            local.ensureRepo(repo, false);
            local.push(repo, Push.files(Map.of("config.json", model.resolve("config.json"),
                    "model.safetensors", model.resolve("model.safetensors")), "tiny llama"));
        }
        Path downloaded;
        try (TrackStore tokens = TrackStore.openHome(dir.resolve("server-home"));
             PricerServer server = PricerServer.start("127.0.0.1", 0, List.of(new HubModule(store, new Access(tokens, false), HubLimits.DEFAULT)))) {
            Map<String, String> env = Map.of("HF_ENDPOINT", "http://127.0.0.1:" + server.port());
            List<String> said = new ArrayList<>();
            StringWriter bars = new StringWriter();
            TransferBar transfer = TransferBar.on(new PrintWriter(bars));
            Path got = BaseModels.resolve("hf:owner/tiny", dir.resolve("home"), env, said::add, transfer);
            assertArrayEquals(Files.readAllBytes(model.resolve("model.safetensors")), Files.readAllBytes(got.resolve("model.safetensors")));
            assertEquals(LlamaConfig.read(model), LlamaConfig.read(got));
            assertEquals(1, said.size(), "where from: " + said);
            List<String> lines = bars.toString().lines().toList();
            String size = FileEntry.readable(Files.size(model.resolve("model.safetensors")));
            assertEquals(2, lines.size(), "a line as each file ends (a log is not a terminal): " + lines);
            assertTrue(lines.get(0).startsWith("[1/2] config.json: ") && lines.get(0).contains("(100%)"), lines.toString());
            assertTrue(lines.get(1).startsWith("[2/2] model.safetensors: " + size + " of " + size + " (100%)"), lines.toString());
            assertEquals(got, BaseModels.resolve("hf:owner/tiny@main", dir.resolve("home"), env, said::add, transfer), "the same commit");
            assertEquals(1, said.size(), "downloaded once: " + said);
            var missing = assertThrows(RuntimeException.class, () -> BaseModels.resolve("hf:owner/absent", dir.resolve("home"), env, said::add, transfer));
            assertTrue(missing.getMessage().contains("owner/absent"), missing.getMessage());
            downloaded = got;
        }

        // The server is gone: the snapshot downloaded before serves, by branch or by its commit, and says so.
        Map<String, String> offline = Map.of("HF_ENDPOINT", "http://127.0.0.1:" + freePort());
        List<String> notes = new ArrayList<>();
        assertEquals(downloaded, BaseModels.resolve("hf:owner/tiny", dir.resolve("home"), offline, notes::add, TransferProgress.NONE));
        assertEquals(downloaded, BaseModels.resolve("hf:owner/tiny@" + downloaded.getFileName(), dir.resolve("home"), offline, notes::add, TransferProgress.NONE));
        assertEquals(2, notes.size(), notes.toString());
        assertTrue(notes.getFirst().startsWith("cannot reach " + offline.get("HF_ENDPOINT") + ": using owner/tiny as downloaded before"), notes.toString());
        assertThrows(RuntimeException.class, () -> BaseModels.resolve("hf:owner/never-downloaded", dir.resolve("home"), offline, notes::add, TransferProgress.NONE));
        assertThrows(RuntimeException.class, () -> BaseModels.resolve("hf:owner/tiny@" + "0".repeat(40), dir.resolve("home"), offline, notes::add, TransferProgress.NONE),
                "a commit that was never downloaded is not replaced by another");
    }

    /** What an adapter records as its base: PEFT's owner/name and commit for a Hub base, so that any machine finds it. */
    @Test
    void anAdapterNamesAHubBaseByItsRepositoryAndCommit(@TempDir Path dir) {
        String sha = "0123456789abcdef0123456789abcdef01234567";
        Path snapshot = dir.resolve("models/meta-llama/Llama-3.1-8B").resolve(sha);
        assertEquals(new BaseModelRef("meta-llama/Llama-3.1-8B", sha), BaseModels.adapterBase("hf:meta-llama/Llama-3.1-8B@main", snapshot));
        assertEquals(new BaseModelRef("meta-llama/Llama-3.1-8B", sha), BaseModels.adapterBase("hf:meta-llama/Llama-3.1-8B", snapshot));
        assertEquals(BaseModelRef.of(dir.resolve("base").toAbsolutePath().normalize().toString()), BaseModels.adapterBase("some/../base", dir.resolve("base")));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
