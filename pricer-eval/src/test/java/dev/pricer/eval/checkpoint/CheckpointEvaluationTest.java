package dev.pricer.eval.checkpoint;

import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.core.lora.LoraConfig;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.eval.Fixtures;
import dev.pricer.eval.predict.Decoding;
import dev.pricer.eval.tester.Report;
import dev.pricer.eval.tester.Tester;
import dev.pricer.eval.track.EvalMetrics;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.Push;
import dev.pricer.hub.RepoId;
import dev.pricer.track.Run;
import dev.pricer.track.RunSpec;
import dev.pricer.track.Tracker;
import dev.pricer.track.TrackerOptions;
import dev.pricer.track.model.Point;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checkpoints pushed to a local hub as the trainer pushes them, evaluated at any revision and logged to their run. */
class CheckpointEvaluationTest {

    @TempDir
    Path tmp;

    private HubClient hubWithTwoCheckpoints(RepoId repo, Path untrained, Path trained) {
        HubClient hub = new LocalHub(Hubs.local(tmp.resolve("hub")), "trainer");
        hub.ensureRepo(repo, false);
        CommitInfo first = hub.push(repo, Push.directory(untrained, "step 10"));
        hub.tag(repo, "step-10", first.sha());
        CommitInfo second = hub.push(repo, Push.directory(trained, "step 20"));
        hub.tag(repo, "step-20", second.sha());
        return hub;
    }

    private Path untrainedAdapter() {
        Path dir = tmp.resolve("untrained");
        try (LlamaModel m = LlamaModel.load(Fixtures.base(), new CpuBackend())) {
            m.createAdapter(new LoraConfig(8, 16, 0, LoraConfig.ALL_PROJECTIONS, false), 3);
            m.saveAdapter(dir, BaseModelRef.of(Fixtures.base().toString()));
        }
        return dir;
    }

    @Test
    void everyCheckpointIsEvaluatedAtItsStepAndAttachedToItsRun() throws Exception {
        RepoId repo = RepoId.model("shop/shop-run1");
        try (HubClient hub = hubWithTwoCheckpoints(repo, untrainedAdapter(), Fixtures.trainedAdapter(Fixtures.ITEMS, 1))) {
            Checkpoints checkpoints = new Checkpoints(hub, tmp.resolve("cache"));
            List<Checkpoint> all = checkpoints.all(repo);
            assertEquals(List.of(10L, 20L), all.stream().map(Checkpoint::step).toList());
            Checkpoint again = checkpoints.fetch(new ModelRef(repo, "step-20"));
            assertEquals(all.get(1).dir(), again.dir(), "a cached commit is reused");

            Tester tester = new Tester(Fixtures.ITEMS, 250);
            Path base = PricingModel.baseOf(null, all.getFirst().dir(), checkpoints, name -> {
                throw new AssertionError("a folder base needs no download: " + name);
            });
            try (PricingModel pricing = PricingModel.open(base, all.getFirst().dir(), new CpuBackend());
                 Tracker tracker = Tracker.open(TrackerOptions.local(tmp.resolve("home")).withSystemMetricsEvery(Duration.ZERO))) {
                Run run = tracker.start(RunSpec.of("shop").withName("run1"));
                run.finish();
                for (Checkpoint c : all) {
                    pricing.useAdapter(c.dir());
                    Report r = tester.run(pricing.predictor(c.label(), Decoding.GREEDY, 3, 4));
                    if (c.step() == 20) assertEquals(0, r.averageError(), 1e-9, "the trained checkpoint answers every price");
                    EvalMetrics.log(tracker, EvalMetrics.runOf(tracker, repo).orElseThrow().id(), c.step(), r);
                }
                List<Point> errors = tracker.store().fullHistory(run.id(), EvalMetrics.PRICE_ERROR);
                assertEquals(List.of(10L, 20L), errors.stream().map(Point::step).toList());
                assertEquals(0, errors.get(1).value(), 1e-9);
                assertEquals(100, tracker.store().fullHistory(run.id(), EvalMetrics.HITS).get(1).value(), 1e-9);
                assertTrue(tracker.store().keys(run.id()).contains(EvalMetrics.RMSLE));
            }
        }
    }

    @Test
    void anUnknownRevisionListsTheRecentOnes() throws Exception {
        RepoId repo = RepoId.model("shop/shop-run2");
        Path adapter = untrainedAdapter();
        try (HubClient hub = hubWithTwoCheckpoints(repo, adapter, adapter)) {
            Checkpoints checkpoints = new Checkpoints(hub, tmp.resolve("cache"));
            var e = assertThrows(IllegalArgumentException.class, () -> checkpoints.fetch(ModelRef.parse("shop/shop-run2@step-99")));
            String head = hub.resolve(repo, "main").substring(0, 7);
            assertTrue(e.getMessage().contains("unknown revision 'step-99'") && e.getMessage().contains(head + " step 20")
                    && e.getMessage().contains("tags step-10, step-20"), e.getMessage());
            assertTrue(Files.notExists(tmp.resolve("cache/models/shop/shop-run2")), "nothing cached for a failed fetch");
        }
    }

    /** A fetch cut off leaves its staging folder to go on from; while another process downloads there, a fetch takes its own. */
    @Test
    void aFetchWhileAnotherIsDownloadingTheSameCommitTakesAFolderOfItsOwn() throws Exception {
        RepoId repo = RepoId.model("shop/shop-run3");
        Path adapter = untrainedAdapter();
        try (HubClient hub = hubWithTwoCheckpoints(repo, adapter, adapter)) {
            String sha = hub.resolve(repo, "main");
            Path cache = tmp.resolve("cache3");
            Path staging = Files.createDirectories(cache.resolve("models/shop/shop-run3/.download-" + sha));
            String first = hub.files(repo, sha).getFirst().path();
            try (var channel = java.nio.channels.FileChannel.open(dev.pricer.hub.CheckedDownload.partOf(staging.resolve(first)),
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE); var lock = channel.lock()) {
                Checkpoint got = new Checkpoints(hub, cache).fetch(ModelRef.parse("shop/shop-run3"));
                assertEquals(cache.resolve("models/shop/shop-run3").resolve(sha), got.dir());
                assertTrue(Files.isRegularFile(got.dir().resolve(first)), "the whole checkpoint, fetched beside the busy folder");
            }
            assertTrue(Files.isDirectory(staging), "the other download's folder is left to it");
        }
    }

    /**
     * An adapter trained on {@code hf:owner/name} names its base {@code owner/name}, as PEFT does: the hub's repository
     * of that name if it has one, else the Hugging Face Hub's (what the trainer downloaded), on any machine.
     */
    @Test
    void aBaseTheHubDoesNotHaveComesFromHuggingFace() throws Exception {
        Path adapter = tmp.resolve("hf-based");
        try (LlamaModel m = LlamaModel.load(Fixtures.base(), new CpuBackend())) {
            m.createAdapter(new LoraConfig(8, 16, 0, LoraConfig.ALL_PROJECTIONS, false), 3);
            m.saveAdapter(adapter, BaseModelRef.of("meta-llama/Llama-3.1-8B"));
        }
        RepoId mirrored = RepoId.model("shop/base");
        try (HubClient hub = hubWithTwoCheckpoints(mirrored, untrainedAdapter(), untrainedAdapter())) {
            Checkpoints checkpoints = new Checkpoints(hub, tmp.resolve("cache"));
            List<String> asked = new ArrayList<>();
            Path fromHf = PricingModel.baseOf(null, adapter, checkpoints, name -> {
                asked.add(name);
                return LocatedBase.folder(Fixtures.base());
            });
            assertEquals(Fixtures.base(), fromHf);
            assertEquals(List.of("meta-llama/Llama-3.1-8B"), asked);
            try (LlamaModel m = LlamaModel.load(Fixtures.base(), adapter, new CpuBackend())) {
                m.saveAdapter(adapter, new BaseModelRef("meta-llama/Llama-3.1-8B", "0123456789abcdef0123456789abcdef01234567"));
            }
            PricingModel.baseOf(null, adapter, checkpoints, name -> {
                asked.add(name);
                return LocatedBase.folder(Fixtures.base());
            });
            assertEquals("meta-llama/Llama-3.1-8B@0123456789abcdef0123456789abcdef01234567", asked.get(1), "at the commit PEFT's revision pins");
            Checkpoint mirror = checkpoints.fetch(ModelRef.parse("shop/base"));
            assertEquals(new LocatedBase(mirror.dir(), new BaseModelRef("shop/base", mirror.sha())), PricingModel.locateBase("shop/base", checkpoints, name -> {
                throw new AssertionError("the hub has it: " + name);
            }), "a hub repository is named as such, at the commit it was fetched at");
            assertEquals(LocatedBase.folder(Fixtures.base()), PricingModel.locateBase(Fixtures.base().toString(), checkpoints, name -> {
                throw new AssertionError("a folder is not looked for elsewhere: " + name);
            }));
            var nowhere = assertThrows(IllegalArgumentException.class, () -> PricingModel.locateBase("shop/absent", checkpoints, name -> {
                throw new IllegalStateException("cannot reach https://huggingface.co");
            }));
            assertEquals("the base model 'shop/absent' is not a folder, the hub has no such repository, and from the Hugging Face Hub: "
                    + "cannot reach https://huggingface.co", nowhere.getMessage());
            var revision = assertThrows(IllegalArgumentException.class, () -> PricingModel.baseOf("shop/base@nope", adapter, checkpoints, name -> {
                throw new AssertionError("a revision the hub lacks is not looked for elsewhere: " + name);
            }));
            assertTrue(revision.getMessage().contains("unknown revision 'nope'"), revision.getMessage());
        }
    }

    @Test
    void anAdapterForAnotherBaseNamesTheTensor() throws Exception {
        Path otherBase = tmp.resolve("other-base");
        Files.createDirectories(otherBase);
        Files.writeString(otherBase.resolve("config.json"), Files.readString(Fixtures.base().resolve("config.json"))
                .replace("\"hidden_size\": 64", "\"hidden_size\": 32").replace("\"head_dim\": 16", "\"head_dim\": 8"));
        Path foreign = tmp.resolve("foreign");
        try (LlamaModel m = LlamaModel.initialize(LlamaConfig.read(otherBase), new CpuBackend(), 0.02, 1, false)) {
            m.createAdapter(new LoraConfig(8, 16, 0, LoraConfig.ALL_PROJECTIONS, false), 3);
            m.saveAdapter(foreign, BaseModelRef.of("other"));
        }
        var e = assertThrows(RuntimeException.class, () -> PricingModel.open(Fixtures.base(), foreign, new CpuBackend()));
        assertTrue(e.getMessage().contains("lora_A") || e.getMessage().contains("lora_B"), e.getMessage());
    }

    @Test
    void modelRefsParse() {
        assertEquals("main", ModelRef.parse("a/b").revision());
        assertEquals("step-5", ModelRef.parse("a/b@step-5").revision());
        assertThrows(IllegalArgumentException.class, () -> ModelRef.parse("a/b@"));
        assertEquals(-1, Checkpoints.stepOf("step-"));
        assertEquals(12, Checkpoints.stepOf("step-12"));
    }
}
