package dev.pricer.train.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingArgumentsTest {

    @TempDir
    Path dir;

    @Test
    void defaultsAreHuggingFaces() {
        TrainingArguments a = TrainingArgumentsIO.load(null, Map.of());
        assertEquals(3.0, a.numTrainEpochs());
        assertEquals(8, a.perDeviceTrainBatchSize());
        assertEquals(5e-5, a.learningRate());
        assertEquals(LrSchedulerType.LINEAR, a.lrSchedulerType());
        assertEquals(1.0, a.maxGradNorm());
        assertEquals(42, a.seed());
        assertEquals(500, a.evalEvery());
        assertEquals("Price is $", a.responseTemplate());
    }

    @Test
    void yamlThenFlagsOverride() throws Exception {
        Path yaml = dir.resolve("train.yaml");
        Files.writeString(yaml, """
                learning_rate: 1.0e-4
                lr_scheduler_type: cosine
                warmup_ratio: 0.03
                per_device_train_batch_size: 4
                lora_target_modules: [q_proj, k_proj, v_proj, o_proj]
                save_total_limit: 2
                """);
        TrainingArguments a = TrainingArgumentsIO.load(yaml, Map.of("per_device_train_batch_size", "16",
                "lora_target_modules", "q_proj,v_proj", "group_by_length", "true"));
        assertEquals(1e-4, a.learningRate());
        assertEquals(LrSchedulerType.COSINE, a.lrSchedulerType());
        assertEquals(16, a.perDeviceTrainBatchSize());
        assertEquals(List.of("q_proj", "v_proj"), a.loraTargetModules());
        assertEquals(2, a.saveTotalLimit());
        assertTrue(a.groupByLength());
        assertEquals(30, a.warmupStepsFor(1000));
        assertEquals(31, a.warmupStepsFor(1001), "HF rounds warmup up");
    }

    @Test
    void writtenArgumentsReadBackEqual() throws Exception {
        TrainingArguments a = TrainingArgumentsIO.load(null, Map.of("lr_scheduler_type", "constant_with_warmup", "eval_steps", "7"));
        Path file = dir.resolve("training_args.yaml");
        TrainingArgumentsIO.write(a, file);
        assertTrue(Files.readString(file).contains("lr_scheduler_type: constant_with_warmup"));
        assertEquals(a, TrainingArgumentsIO.read(file));
    }

    @Test
    void badInputNamesTheFieldAndTheFile() throws Exception {
        Path yaml = dir.resolve("bad.yaml");
        Files.writeString(yaml, "learning_rate: fast\n");
        var e = assertThrows(IllegalArgumentException.class, () -> TrainingArgumentsIO.load(yaml, Map.of()));
        assertTrue(e.getMessage().contains("bad.yaml") && e.getMessage().contains("learning_rate"), e.getMessage());

        Files.writeString(yaml, "learnig_rate: 1e-4\n");
        e = assertThrows(IllegalArgumentException.class, () -> TrainingArgumentsIO.load(yaml, Map.of()));
        assertTrue(e.getMessage().contains("learnig_rate"), e.getMessage());

        Files.writeString(yaml, "lr_scheduler_type: cosine_with_restarts\n");
        e = assertThrows(IllegalArgumentException.class, () -> TrainingArgumentsIO.load(yaml, Map.of()));
        assertTrue(e.getMessage().contains("cosine_with_restarts") && e.getMessage().contains("constant_with_warmup"), e.getMessage());

        Files.writeString(yaml, "per_device_train_batch_size: 0\n");
        e = assertThrows(IllegalArgumentException.class, () -> TrainingArgumentsIO.load(yaml, Map.of()));
        assertTrue(e.getMessage().contains("per_device_train_batch_size = 0"), e.getMessage());

        Files.writeString(yaml, "lora_target_modules: [q_proj, qkv]\n");
        e = assertThrows(IllegalArgumentException.class, () -> TrainingArgumentsIO.load(yaml, Map.of()));
        assertTrue(e.getMessage().contains("qkv"), e.getMessage());

        Files.writeString(yaml, "- just\n- a list\n");
        e = assertThrows(IllegalArgumentException.class, () -> TrainingArgumentsIO.load(yaml, Map.of()));
        assertTrue(e.getMessage().contains("mapping"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> TrainingArgumentsIO.load(null, Map.of("warmup_stepz", "3")));
        assertTrue(e.getMessage().contains("warmup_stepz"), e.getMessage());
    }

    @Test
    void totalStepsRoundsPartialAccumulationUp() {
        TrainingArguments a = TrainingArgumentsIO.load(null, Map.of("gradient_accumulation_steps", "4", "num_train_epochs", "2"));
        assertEquals(2 * 3, a.totalSteps(10));
        TrainingArguments capped = TrainingArgumentsIO.load(null, Map.of("max_steps", "5"));
        assertEquals(5, capped.totalSteps(1000));
    }

    @Test
    void everyArgumentIsAPropertyWithADescription() {
        var props = TrainingArgumentsIO.properties();
        assertEquals(TrainingArguments.class.getRecordComponents().length, props.size());
        for (var p : props) assertTrue(p.description() != null && !p.description().isBlank(), p.name());
    }

    @Test
    void overridingSavedArgumentsChangesOnlyTheFlagsGiven() {
        TrainingArguments saved = TrainingArgumentsIO.load(null, Map.of("learning_rate", "2e-4", "seed", "9"));
        TrainingArguments resumed = TrainingArgumentsIO.override(saved, Map.of("logging_steps", "5"), "checkpoint-10/training_args.yaml");
        assertEquals(2e-4, resumed.learningRate());
        assertEquals(9, resumed.seed());
        assertEquals(5, resumed.loggingSteps());
        var e = assertThrows(IllegalArgumentException.class, () -> TrainingArgumentsIO.override(saved, Map.of("seed", "x"), "checkpoint-10/training_args.yaml"));
        assertTrue(e.getMessage().contains("checkpoint-10/training_args.yaml") && e.getMessage().contains("seed"), e.getMessage());
    }
}
