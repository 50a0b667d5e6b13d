package dev.pricer.train.loop;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.core.lora.PeftAdapter;
import dev.pricer.core.model.Batch;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.tensor.HostTensor;
import dev.pricer.train.TinyLlama;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointPart;
import dev.pricer.train.checkpoint.TrainingCard;
import dev.pricer.train.checkpoint.CheckpointSink;
import dev.pricer.train.checkpoint.CheckpointStore;
import dev.pricer.train.config.TrainingArguments;
import dev.pricer.train.config.TrainingArgumentsIO;
import dev.pricer.train.data.SequentialBatches;
import dev.pricer.train.engine.LlamaTrainable;
import dev.pricer.train.metrics.JsonlMetricsSink;
import dev.pricer.train.progress.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fixture's 12-step LoRA run from transformers + PEFT, through the real loop. */
class FixtureRunTest {

    @TempDir
    Path run;

    static TrainingArguments fixtureArgs() {
        return TrainingArgumentsIO.load(null, Map.ofEntries(
                Map.entry("num_train_epochs", "1"), Map.entry("per_device_train_batch_size", "2"),
                Map.entry("gradient_accumulation_steps", "2"), Map.entry("learning_rate", "2e-3"),
                Map.entry("lr_scheduler_type", "cosine"), Map.entry("warmup_steps", "2"), Map.entry("weight_decay", "0"),
                Map.entry("max_grad_norm", "1"), Map.entry("logging_steps", "1"), Map.entry("save_steps", "100"),
                Map.entry("lora_r", "8"), Map.entry("lora_alpha", "16"), Map.entry("lora_dropout", "0"),
                Map.entry("lora_target_modules", "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")));
    }

    @Test
    void twelveStepsMatchTransformersAndPeft() throws Exception {
        runAndCheck(new CpuBackend(), run);
    }

    /** A run on a backend with device memory logs its peak with every log and says it at the end. */
    @Test
    void aRunReportsThePeakDeviceMemoryOfItsBackend() throws Exception {
        TrainingArguments args = fixtureArgs();
        var data = new SequentialBatches(TinyLlama.runExamples(TinyLlama.expected()), 0, args.perDeviceTrainBatchSize());
        var said = new ByteArrayOutputStream();
        Trainer.Result result;
        try (var model = new LlamaTrainable(LlamaModel.load(TinyLlama.model(), TinyLlama.runInitialAdapter(), new CpuBackend()), args, BaseModelRef.of("tiny-llama"));
             var metrics = JsonlMetricsSink.open(run.resolve(JsonlMetricsSink.FILE), 0)) {
            Trainable withDeviceMemory = new ReportingPeak(model, 3L << 29);
            result = new Trainer(args, withDeviceMemory, data, null, new Trainer.Io(new CheckpointStore(run), CheckpointSink.RUN_FOLDER_ONLY,
                    metrics, new Progress.Lines(new PrintStream(said, true)))).train(Optional.empty());
        }
        for (Map<String, Object> h : result.logHistory()) assertEquals(1.5, (double) h.get(Trainer.PEAK_MEMORY_METRIC), 0.0, h.toString());
        assertTrue(Files.readString(run.resolve(JsonlMetricsSink.FILE)).contains(Trainer.PEAK_MEMORY_METRIC));
        assertTrue(said.toString().contains("peak GPU memory 1.50 GiB"), said.toString());
    }

    /** A trainable as {@code inner}, on a backend said to have held {@code peakBytes} of device memory at most. */
    private record ReportingPeak(Trainable inner, long peakBytes) implements Trainable {
        @Override public double accumulateGradients(Batch batch, float gradScale, long dropoutSeed) {
            return inner.accumulateGradients(batch, gradScale, dropoutSeed);
        }
        @Override public double loss(Batch batch) { return inner.loss(batch); }
        @Override public void zeroGradients() { inner.zeroGradients(); }
        @Override public double gradientNorm() { return inner.gradientNorm(); }
        @Override public void optimizerStep(double learningRate, double gradMultiplier, int step) { inner.optimizerStep(learningRate, gradMultiplier, step); }
        @Override public List<CheckpointPart> checkpointParts() { return inner.checkpointParts(); }
        @Override public TrainingCard.Model describe() { return inner.describe(); }
        @Override public void restore(Checkpoint checkpoint) { inner.restore(checkpoint); }
        @Override public OptionalLong peakDeviceMemoryBytes() { return OptionalLong.of(peakBytes); }
        @Override public void close() { }
    }

    /**
     * The fixture's run on {@code backend} through the real loop: loss, learning rate and gradient norm of every
     * step, and the final adapter, within 1e-4 relative of transformers + PEFT.
     */
    static void runAndCheck(Backend backend, Path run) throws Exception {
        Map<String, HostTensor> expected = TinyLlama.expected();
        TrainingArguments args = fixtureArgs();
        var data = new SequentialBatches(TinyLlama.runExamples(expected), 0, args.perDeviceTrainBatchSize());
        Trainer.Result result;
        try (var model = new LlamaTrainable(LlamaModel.load(TinyLlama.model(), TinyLlama.runInitialAdapter(), backend), args, BaseModelRef.of("tiny-llama"));
             var metrics = JsonlMetricsSink.open(run.resolve(JsonlMetricsSink.FILE), 0)) {
            Trainer trainer = new Trainer(args, model, data, null,
                    new Trainer.Io(new CheckpointStore(run), CheckpointSink.RUN_FOLDER_ONLY, metrics,
                            new Progress.Lines(new PrintStream(OutputStream.nullOutputStream()))));
            assertEquals(12, trainer.totalSteps());
            result = trainer.train(Optional.empty());
        }
        double[] loss = expected.get("run.loss").toDoubleArray();
        double[] lr = expected.get("run.lr").toDoubleArray();
        double[] norm = expected.get("run.grad_norm").toDoubleArray();
        List<Map<String, Object>> history = result.logHistory();
        assertEquals(12, history.size());
        for (int s = 0; s < 12; s++) {
            Map<String, Object> h = history.get(s);
            assertEquals(s + 1, h.get("step"));
            assertRelative(loss[s], (double) h.get("loss"), "loss at step " + s);
            assertRelative(lr[s], (double) h.get("learning_rate"), "lr at step " + s);
            assertRelative(norm[s], (double) h.get("grad_norm"), "grad norm at step " + s);
            // a GPU run reports its peak device memory with every log; the CPU has none to report
            if (backend.peakDeviceMemoryBytes().isPresent()) {
                assertTrue((double) h.get(Trainer.PEAK_MEMORY_METRIC) > 0, "peak GPU memory at step " + s + ": " + h);
            } else {
                assertFalse(h.containsKey(Trainer.PEAK_MEMORY_METRIC), h.toString());
            }
        }
        Checkpoint last = result.lastCheckpoint().orElseThrow();
        assertEquals(12, last.step());
        try (SafeTensors adapter = SafeTensors.open(last.file(PeftAdapter.WEIGHTS_FILE))) {
            int compared = 0;
            for (String key : expected.keySet()) {
                if (!key.startsWith("run.final.")) continue;
                String name = key.substring("run.final.".length());
                float[] got = adapter.tensor(name).toFloatArray();
                double[] want = expected.get(key).toDoubleArray();
                double diff = 0, ref = 0;
                for (int i = 0; i < want.length; i++) {
                    diff += (got[i] - want[i]) * (got[i] - want[i]);
                    ref += want[i] * want[i];
                }
                assertEquals(0.0, Math.sqrt(diff / ref), 1e-4, "final adapter tensor " + name);
                compared++;
            }
            assertEquals(2 * 7 * 2, compared);
        }
    }

    static void assertRelative(double want, double got, String what) {
        assertEquals(want, got, 1e-4 * Math.max(Math.abs(want), 1e-12), what);
    }
}
