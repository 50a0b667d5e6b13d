package dev.pricer.train;

import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.core.lora.PeftAdapter;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointSink;
import dev.pricer.train.checkpoint.CheckpointStore;
import dev.pricer.train.checkpoint.TrainerState;
import dev.pricer.train.config.TrainingArguments;
import dev.pricer.train.engine.LlamaTrainable;
import dev.pricer.train.loop.Trainer;
import dev.pricer.train.loop.TrainingDivergedException;
import dev.pricer.train.metrics.JsonlMetricsSink;
import dev.pricer.train.metrics.MetricsSink;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whole runs on the tiny model: text in, checkpoints and metrics out. */
class TrainingJobTest {

    @TempDir
    static Path shared;
    static Path base;
    static Path data;

    @TempDir
    Path dir;

    @BeforeAll
    static void files() throws IOException {
        base = TinyRun.base(shared);
        data = TinyRun.items(shared.resolve("items.jsonl"), 40, 5);
    }

    Trainer.Result run(String name, TrainingArguments args, Optional<Checkpoint> resume) throws IOException {
        return run(name, args, resume, false);
    }

    Trainer.Result run(String name, TrainingArguments args, Optional<Checkpoint> resume, boolean fromScratch) throws IOException {
        return TinyRun.run(base, data, dir.resolve(name), args, resume, fromScratch);
    }

    static List<Object> losses(Trainer.Result r) {
        return r.logHistory().stream().filter(h -> h.containsKey("loss")).map(h -> h.get("loss")).toList();
    }

    static byte[] adapter(Trainer.Result r) throws IOException {
        return Files.readAllBytes(r.lastCheckpoint().orElseThrow().file(PeftAdapter.WEIGHTS_FILE));
    }

    @Test
    void theSameSeedGivesTheSameCurveAndAnotherSeedAnotherOne() throws IOException {
        TrainingArguments args = TinyRun.args(Map.of());
        Trainer.Result a = run("a", args, Optional.empty());
        Trainer.Result b = run("b", args, Optional.empty());
        assertEquals(10, a.globalStep(), "40 examples, batches of 4, 2 per step, 2 epochs");
        TinyRun.assertSameHistory(a.logHistory(), b.logHistory());
        assertArrayEquals(adapter(a), adapter(b), "the same final adapter, byte for byte");
        Trainer.Result c = run("c", TinyRun.args(Map.of("seed", "7")), Optional.empty());
        assertNotEquals(losses(a).getFirst(), losses(c).getFirst(), "another seed, another data order");
        double first = (double) losses(a).getFirst(), last = (double) losses(a).getLast();
        assertTrue(last < first, "the loss comes down: " + losses(a));
    }

    @Test
    void resumingFromACheckpointContinuesAsTheUninterruptedRun() throws IOException {
        TrainingArguments args = TinyRun.args(Map.of("validation_split_percentage", "10", "eval_steps", "3"));
        Trainer.Result whole = run("whole", args, Optional.empty());
        Checkpoint mid = new CheckpointStore(dir.resolve("whole")).list().stream().filter(c -> c.step() == 4).findFirst().orElseThrow();

        Path copy = Files.createDirectories(dir.resolve("resumed"));
        Path cpCopy = Files.createDirectories(copy.resolve(mid.dir().getFileName()));
        for (String f : Files.list(mid.dir()).map(p -> p.getFileName().toString()).toList()) Files.copy(mid.dir().resolve(f), cpCopy.resolve(f));
        Files.copy(dir.resolve("whole").resolve(JsonlMetricsSink.FILE), copy.resolve(JsonlMetricsSink.FILE));
        Trainer.Result resumed = run("resumed", args, Optional.of(CheckpointStore.open(cpCopy)));

        TinyRun.assertSameHistory(whole.logHistory(), resumed.logHistory());
        assertArrayEquals(adapter(whole), adapter(resumed), "the same final adapter, byte for byte");
        assertTrue(whole.logHistory().stream().anyMatch(h -> h.containsKey("eval_loss")), "evaluation ran");
        List<Integer> steps = JsonlMetricsSink.read(copy.resolve(JsonlMetricsSink.FILE)).stream()
                .filter(m -> m.containsKey("train/loss")).map(m -> ((Number) m.get("step")).intValue()).toList();
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), steps, "metrics read as one run");
    }

    @Test
    void resumingWithOtherDataOrBatchingIsRefused() throws IOException {
        TrainingArguments args = TinyRun.args(Map.of("max_steps", "2"));
        Checkpoint cp = run("first", args, Optional.empty()).lastCheckpoint().orElseThrow();
        var e = assertThrows(IllegalArgumentException.class,
                () -> run("first", TinyRun.args(Map.of("max_steps", "2", "per_device_train_batch_size", "2")), Optional.of(cp)));
        assertTrue(e.getMessage().contains("per_device_train_batch_size"), e.getMessage());
        Path state = cp.file(TrainerState.FILE);
        String good = Files.readString(state);
        Files.writeString(state, good.replaceAll("\"micro_batch\" : 4", "\"micro_batch\" : 6"));
        e = assertThrows(IllegalArgumentException.class, () -> run("first", args, Optional.of(cp)));
        assertTrue(e.getMessage().contains("data position"), e.getMessage());
        Files.writeString(state, good.substring(0, good.length() / 2));
        e = assertThrows(IllegalArgumentException.class, () -> run("first", args, Optional.of(cp)));
        assertTrue(e.getMessage().contains(TrainerState.FILE), e.getMessage());
        Files.writeString(state, good);

        Path optimizer = cp.file(LlamaTrainable.OPTIMIZER_FILE);
        byte[] moments = Files.readAllBytes(optimizer);
        Files.write(optimizer, Arrays.copyOf(moments, moments.length - 100));
        RuntimeException bad = assertThrows(RuntimeException.class, () -> run("first", args, Optional.of(cp)));
        assertTrue(bad.getMessage().contains(LlamaTrainable.OPTIMIZER_FILE), bad.getMessage());
        Files.write(optimizer, moments);

        Path before = data;
        data = TinyRun.items(dir.resolve("other.jsonl"), 40, 6);
        try {
            e = assertThrows(IllegalArgumentException.class, () -> run("first", args, Optional.of(cp)));
            assertTrue(e.getMessage().contains("training data differ"), e.getMessage());
        } finally {
            data = before;
        }
    }

    @Test
    void stopRequestSavesAndANonFiniteLossStopsTheRunKeepingTheLastGoodCheckpoint() throws IOException {
        TrainingArguments args = TinyRun.args(Map.of("save_steps", "5"));
        Path runDir = dir.resolve("nan");
        AtomicReference<Trainer> trainer = new AtomicReference<>();
        JsonlMetricsSink jsonl = JsonlMetricsSink.open(runDir.resolve(JsonlMetricsSink.FILE), 0);
        MetricsSink stopAtTwo = new MetricsSink() {
            @Override
            public void log(int step, Map<String, Double> metrics) throws IOException {
                jsonl.log(step, metrics);
                if (step == 2) trainer.get().requestStop();
            }

            @Override
            public void close() throws IOException {
                jsonl.close();
            }
        };
        Trainer.Result stopped;
        try (stopAtTwo) {
            stopped = TrainingJob.run(new TrainingJob.Spec(base, BaseModelRef.of("tiny-llama"), data, runDir, args, Optional.empty(), false), new CpuBackend(),
                    new TrainingJob.Sinks(stopAtTwo, CheckpointSink.RUN_FOLDER_ONLY, TinyRun.quiet()), trainer::set);
        }
        assertEquals(Trainer.Status.INTERRUPTED, stopped.status());
        Checkpoint two = stopped.lastCheckpoint().orElseThrow();
        assertEquals(2, two.step(), "a stop request saves where it stopped, not at save_steps");
        byte[] adapter = Files.readAllBytes(two.file(PeftAdapter.WEIGHTS_FILE));

        Path poisoned = TinyRun.poisoned(base, dir);
        TrainingJob.Sinks sinks = TinyRun.sinks(runDir, 2);
        var e = assertThrows(TrainingDivergedException.class, () -> {
            try (var _ = sinks.metrics()) {
                TrainingJob.run(new TrainingJob.Spec(poisoned, BaseModelRef.of("tiny-llama"), data, runDir, args, Optional.of(two), false), new CpuBackend(), sinks, t -> { });
            }
        });
        assertTrue(e.getMessage().contains("step 3") && e.getMessage().contains("NaN") && e.getMessage().contains("checkpoint-2"), e.getMessage());
        CheckpointStore store = new CheckpointStore(runDir);
        assertEquals(List.of(2), store.list().stream().map(Checkpoint::step).toList());
        assertArrayEquals(adapter, Files.readAllBytes(store.latest().orElseThrow().file(PeftAdapter.WEIGHTS_FILE)));
        Trainer.Result rest = run("nan", args, Optional.of(store.latest().orElseThrow()));
        assertEquals(Trainer.Status.COMPLETED, rest.status(), "the kept checkpoint resumes");
    }

    @Test
    void fullParameterTrainingFromScratchRunsThroughTheSameLoopAndSavesALoadableModel() throws IOException {
        Path validation = TinyRun.items(dir.resolve("validation.jsonl"), 8, 77);
        TrainingArguments args = TinyRun.args(Map.of("use_peft", "false", "learning_rate", "3e-3", "save_steps", "5",
                "validation_file", validation.toString(), "num_train_epochs", "3", "eval_steps", "100"));
        Trainer.Result r = run("scratch", args, Optional.empty(), true);
        List<Double> eval = r.logHistory().stream().filter(h -> h.containsKey("eval_loss")).map(h -> (double) h.get("eval_loss")).toList();
        assertEquals(3, eval.size(), "evaluated at the end of each epoch: " + eval);
        assertTrue(eval.getLast() < eval.getFirst() - 0.5, "a random model learns the bytes: " + eval);
        Checkpoint cp = r.lastCheckpoint().orElseThrow();
        assertTrue(cp.files().containsAll(List.of(LlamaTrainable.FULL_WEIGHTS, "config.json", LlamaTrainable.OPTIMIZER_FILE)), cp.files().toString());
        try (LlamaModel m = LlamaModel.load(cp.dir(), new CpuBackend())) {
            assertEquals(64, m.config().hiddenSize(), "the checkpoint is a Hugging Face model folder");
        }
        assertThrows(IllegalArgumentException.class, () -> run("lora-scratch", TinyRun.args(Map.of()), Optional.empty(), true));

        Checkpoint ten = new CheckpointStore(dir.resolve("scratch")).list().stream().filter(c -> c.step() == 10).findFirst().orElseThrow();
        var e = assertThrows(IllegalArgumentException.class, () -> run("scratch", args, Optional.of(ten), true));
        assertTrue(e.getMessage().contains("later checkpoints [15]"), e.getMessage());
        Trainer.Result resumed = run("scratch-resumed", args, Optional.of(ten), true);
        TinyRun.assertSameHistory(r.logHistory(), resumed.logHistory());
        assertArrayEquals(Files.readAllBytes(r.lastCheckpoint().orElseThrow().file(LlamaTrainable.FULL_WEIGHTS)),
                Files.readAllBytes(resumed.lastCheckpoint().orElseThrow().file(LlamaTrainable.FULL_WEIGHTS)), "the same final weights");
    }
}
