package dev.pricer.train;

import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.model.Quantization;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointStore;
import dev.pricer.train.config.TrainingArguments;
import dev.pricer.train.config.TrainingArgumentsIO;
import dev.pricer.train.loop.Trainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * QLoRA through the trainer: {@code quantize: nf4} and {@code gradient_checkpointing} as a user sets them, on
 * the tiny model and the same data and seed as the float run.
 */
class QloraTrainingTest {

    /** Stated tolerance: every logged training loss of the NF4 run within 3% of the float32 run's. */
    static final double NF4_TOLERANCE = 0.03;

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

    private Trainer.Result run(String name, TrainingArguments args) throws IOException {
        return TinyRun.run(base, data, dir.resolve(name), args, Optional.empty(), false);
    }

    private static List<Double> losses(Trainer.Result r) {
        return r.logHistory().stream().filter(h -> h.containsKey("loss")).map(h -> ((Number) h.get("loss")).doubleValue()).toList();
    }

    @Test
    void anNf4RunFollowsTheFloatRunsLossCurveAndLeavesAnOrdinaryAdapter() throws IOException {
        Trainer.Result f32 = run("f32", TinyRun.args(Map.of("num_train_epochs", "1")));
        Trainer.Result nf4 = run("nf4", TinyRun.args(Map.of("num_train_epochs", "1", "quantize", "nf4")));
        List<Double> a = losses(f32), b = losses(nf4);
        assertEquals(a.size(), b.size());
        double worst = 0;
        for (int i = 0; i < a.size(); i++) worst = Math.max(worst, Math.abs(b.get(i) - a.get(i)) / a.get(i));
        assertTrue(worst <= NF4_TOLERANCE, "NF4 losses " + b + " stray " + worst + " from float32 " + a);
        assertNotEquals(a, b, "the NF4 base must really differ, or the comparison proves nothing");
        assertTrue(b.getLast() < b.getFirst(), "the NF4 run learns: " + b);

        // Its checkpoint is a PEFT adapter that the float base takes as it is.
        Checkpoint last = new CheckpointStore(dir.resolve("nf4")).latest().orElseThrow();
        try (LlamaModel model = LlamaModel.load(base, last.dir(), new CpuBackend())) {
            assertEquals(Quantization.NONE, model.quantization());
            assertEquals(4, model.loraConfig().r());
        }
        assertEquals("nf4", TrainingArgumentsIO.read(last.file(Trainer.ARGS_FILE)).quantize(), "the run's arguments record the quantization");
    }

    @Test
    void gradientCheckpointingChangesNothingButMemory() throws IOException {
        Trainer.Result plain = run("plain", TinyRun.args(Map.of("quantize", "nf4", "max_steps", "3")));
        Trainer.Result checkpointed = run("checkpointed", TinyRun.args(Map.of("quantize", "nf4", "max_steps", "3", "gradient_checkpointing", "true")));
        // The recomputed forward pass runs the same kernels on the same inputs, and the CPU backend is deterministic.
        TinyRun.assertSameHistory(plain.logHistory(), checkpointed.logHistory());
    }

    @Test
    void quantizedFullTrainingAndUnknownSchemesAreRefusedNamingTheField() {
        var full = assertThrows(IllegalArgumentException.class, () -> TinyRun.args(Map.of("use_peft", "false", "quantize", "nf4")));
        assertTrue(full.getMessage().contains("quantize = nf4") && full.getMessage().contains("use_peft"), full.getMessage());
        var scheme = assertThrows(IllegalArgumentException.class, () -> TinyRun.args(Map.of("quantize", "int8")));
        assertTrue(scheme.getMessage().contains("quantize = int8"), scheme.getMessage());
    }
}
