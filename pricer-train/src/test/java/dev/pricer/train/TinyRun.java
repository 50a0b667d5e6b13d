package dev.pricer.train;

import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.safetensors.SafeTensorsWriter;
import dev.pricer.core.tensor.HostTensor;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointSink;
import dev.pricer.train.config.TrainingArguments;
import dev.pricer.train.config.TrainingArgumentsIO;
import dev.pricer.train.loop.Trainer;
import dev.pricer.train.metrics.JsonlMetricsSink;
import dev.pricer.train.progress.Progress;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A whole training run on the tiny fixture model: a base folder with a byte-level tokenizer, and item files. */
public final class TinyRun {

    private static final String[] THINGS = {"kettle", "drill", "lamp", "guitar strings", "phone case", "stapler", "tyre gauge", "toy robot"};
    private static final String[] WORDS = {"stainless", "cordless", "LED", "acoustic", "rugged", "heavy duty", "digital", "kids"};

    private TinyRun() {
    }

    /** The tiny Llama's config and weights with {@code tokenizer.json}, as a Hugging Face model folder. */
    public static Path base(Path dir) throws IOException {
        Path base = Files.createDirectories(dir.resolve("tiny-llama"));
        for (String f : new String[]{"config.json", "model.safetensors"}) {
            Files.copy(TinyLlama.model().resolve(f), base.resolve(f));
        }
        try {
            Files.copy(Path.of(TinyRun.class.getResource("/tokenizers/byte-tokenizer.json").toURI()), base.resolve("tokenizer.json"));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return base;
    }

    /** A copy of {@code base} whose final norm weight holds a NaN, so every loss computed with it is NaN. */
    public static Path poisoned(Path base, Path dir) throws IOException {
        Path out = Files.createDirectories(dir.resolve("poisoned"));
        for (String f : new String[]{"config.json", "tokenizer.json"}) Files.copy(base.resolve(f), out.resolve(f));
        Map<String, HostTensor> tensors = new LinkedHashMap<>(SafeTensors.readAll(base.resolve("model.safetensors")));
        HostTensor norm = tensors.get("model.norm.weight");
        float[] values = norm.toFloatArray();
        values[0] = Float.NaN;
        tensors.put("model.norm.weight", HostTensor.ofFloats(values, norm.shape()));
        SafeTensorsWriter.write(out.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        return out;
    }

    /**
     * Compares two log histories entry by entry: the same keys, steps and numbers, bit for bit (the CPU
     * backend gives the same bits on every JIT tier and thread count). Wall-clock speed is left out.
     */
    public static void assertSameHistory(List<Map<String, Object>> want, List<Map<String, Object>> got) {
        assertEquals(want.size(), got.size(), "log entries");
        for (int i = 0; i < want.size(); i++) {
            Map<String, Object> w = new LinkedHashMap<>(want.get(i)), g = new LinkedHashMap<>(got.get(i));
            w.remove("tokens_per_second");
            g.remove("tokens_per_second");
            assertEquals(w.keySet(), g.keySet(), "keys of entry " + i);
            for (String k : w.keySet()) {
                double a = ((Number) w.get(k)).doubleValue(), b = ((Number) g.get(k)).doubleValue();
                assertEquals(Double.doubleToRawLongBits(a), Double.doubleToRawLongBits(b),
                        k + " of entry " + i + " (step " + w.get("step") + "): " + a + " vs " + b);
            }
        }
    }

    /** {@code n} seeded items as {@code {"text":..., "price":...}} lines. */
    public static Path items(Path file, int n, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String text = WORDS[r.nextInt(WORDS.length)] + " " + THINGS[r.nextInt(THINGS.length)] + ", " + (1 + r.nextInt(40)) + " pack";
            lines.add("{\"text\":\"" + text + "\",\"price\":" + (1 + r.nextInt(300)) + "." + r.nextInt(100) + "}");
        }
        Files.write(file, lines);
        return file;
    }

    /** Small-run arguments; {@code overrides} as on the command line. */
    public static TrainingArguments args(Map<String, String> overrides) {
        Map<String, String> all = new HashMap<>(Map.of(
                "per_device_train_batch_size", "4", "gradient_accumulation_steps", "2", "num_train_epochs", "2",
                "learning_rate", "3e-3", "lr_scheduler_type", "cosine", "warmup_ratio", "0.1", "logging_steps", "1",
                "save_steps", "2", "validation_split_percentage", "0", "lora_r", "4"));
        all.put("lora_alpha", "8");
        all.put("lora_dropout", "0.1");
        all.putAll(overrides);
        return TrainingArgumentsIO.load(null, all);
    }

    public static Progress quiet() {
        return new Progress.Lines(new PrintStream(OutputStream.nullOutputStream()));
    }

    public static TrainingJob.Sinks sinks(Path runDir, int resumeStep) throws IOException {
        return new TrainingJob.Sinks(JsonlMetricsSink.open(runDir.resolve(JsonlMetricsSink.FILE), resumeStep),
                CheckpointSink.RUN_FOLDER_ONLY, quiet());
    }

    /** A whole run on the CPU into {@code runDir}, metrics in its JSONL file, checkpoints in the run folder. */
    public static Trainer.Result run(Path base, Path data, Path runDir, TrainingArguments args, Optional<Checkpoint> resume,
                                     boolean fromScratch) throws IOException {
        TrainingJob.Sinks sinks = sinks(runDir, resume.map(Checkpoint::step).orElse(0));
        try (var _ = sinks.metrics()) {
            return TrainingJob.run(new TrainingJob.Spec(base, BaseModelRef.of("tiny-llama"), data, runDir, args, resume, fromScratch),
                    new CpuBackend(), sinks, t -> { });
        }
    }
}
