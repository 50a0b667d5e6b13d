package dev.pricer.train.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.pricer.train.config.TrainingArguments;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The model card ({@code README.md}) each checkpoint carries, as PEFT's {@code save_pretrained} and the Trainer's
 * {@code push_to_hub} write one: metadata the Hub reads ({@code base_model}, {@code library_name}, {@code tags},
 * {@code datasets}),
 * what was trained on what, the losses by step and the hyperparameters. A hub repository's page opens on it.
 */
public final class TrainingCard {

    public static final String FILE = "README.md";
    /** More rows of training loss than this say less than the chart on the run's page. */
    private static final int MOST_ROWS = 20;
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
        .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER).enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

    /**
     * What the trained model is: its base as an adapter names it, the library that loads it ({@code peft} for an
     * adapter), tags, and a sentence for people ("A LoRA adapter (r 32, ...) of meta-llama/Llama-3.1-8B").
     */
    public record Model(String baseModel, String libraryName, List<String> tags, String summary) {

        public Model {
            tags = List.copyOf(tags);
        }
    }

    private TrainingCard() {
    }

    public static void write(Path file, Model model, TrainingArguments args, TrainerState state) throws IOException {
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("base_model", model.baseModel());
        metadata.put("library_name", model.libraryName());
        metadata.put("tags", model.tags());
        if (args.datasetName() != null) metadata.put("datasets", List.of(args.datasetName()));
        metadata.put("pipeline_tag", "text-generation");
        StringBuilder card = new StringBuilder("---\n").append(YAML.writeValueAsString(metadata)).append("---\n\n");
        card.append("# Checkpoint at step %,d of %,d\n\n".formatted(state.globalStep(), state.maxSteps()));
        card.append(model.summary()).append(", trained by Pricer to estimate a product's price from its description: each ")
            .append("prompt ends in `").append(args.responseTemplate().strip()).append("`, and the loss covers what follows it.\n\n");
        card.append("Data: %,d training examples%s (fingerprint `%s`), of which this checkpoint has seen %.2f epochs.\n\n".formatted(
            state.trainExamples(), args.datasetName() == null ? "" : " of the dataset `" + args.datasetName() + "`", state.dataFingerprint(), state.epoch()));
        results(card, state.logHistory());
        card.append("## Training hyperparameters\n\n");
        hyperparameters(args).forEach((name, value) -> card.append("- ").append(name).append(": ").append(value).append('\n'));
        card.append("\nEvery argument is in `training_args.yaml` beside this card; `trainer_state.json` has the whole log history.\n");
        Files.writeString(file, card);
    }

    /**
     * A row per evaluation with the training loss logged at that step, as the Trainer's card has; without evaluations,
     * the last logged training losses.
     */
    private static void results(StringBuilder card, List<Map<String, Object>> history) {
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<Object, Double> trainLoss = new LinkedHashMap<>();
        for (Map<String, Object> entry : history) {
            if (entry.get("loss") instanceof Number loss) trainLoss.put(entry.get("step"), loss.doubleValue());
            if (entry.containsKey("eval_loss")) rows.add(entry);
        }
        boolean evaluated = !rows.isEmpty();
        if (!evaluated) rows = history.stream().filter(e -> e.containsKey("loss")).toList();
        if (rows.isEmpty()) return;
        rows = rows.subList(Math.max(0, rows.size() - MOST_ROWS), rows.size());
        card.append("## Training results\n\n| step | epoch | training loss |").append(evaluated ? " eval loss |" : "").append('\n');
        card.append("|---|---|---|").append(evaluated ? "---|" : "").append('\n');
        for (Map<String, Object> row : rows) {
            Double loss = trainLoss.get(row.get("step"));
            card.append("| ").append(row.get("step")).append(" | ").append(row.get("epoch") instanceof Number e ? "%.2f".formatted(e.doubleValue()) : "")
                .append(" | ").append(loss == null ? "" : "%.4f".formatted(loss)).append(" |");
            if (evaluated) card.append(" %.4f |".formatted(((Number) row.get("eval_loss")).doubleValue()));
            card.append('\n');
        }
        card.append('\n');
    }

    private static Map<String, String> hyperparameters(TrainingArguments args) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("learning_rate", number(args.learningRate()));
        out.put("lr_scheduler_type", args.lrSchedulerType().toString().toLowerCase(Locale.ROOT));
        out.put("warmup", args.warmupSteps() > 0 ? args.warmupSteps() + " steps" : "ratio " + number(args.warmupRatio()));
        out.put("per_device_train_batch_size", Integer.toString(args.perDeviceTrainBatchSize()));
        out.put("gradient_accumulation_steps", Integer.toString(args.gradientAccumulationSteps()));
        out.put("optimizer", "AdamW (betas %s, %s; epsilon %s; weight decay %s)".formatted(number(args.adamBeta1()),
            number(args.adamBeta2()), number(args.adamEpsilon()), number(args.weightDecay())));
        out.put("max_grad_norm", number(args.maxGradNorm()));
        out.put("max_seq_length", Integer.toString(args.maxSeqLength()));
        out.put("seed", Long.toString(args.seed()));
        if (args.usePeft()) {
            out.put("lora", "r %d, alpha %s, dropout %s, on %s%s".formatted(args.loraR(), number(args.loraAlpha()), number(args.loraDropout()),
                String.join(", ", args.loraTargetModules()), args.useRslora() ? " (rsLoRA)" : ""));
        }
        out.put("quantize", args.quantize());
        out.put("gradient_checkpointing", Boolean.toString(args.gradientCheckpointing()));
        return out;
    }

    /** 0.0001, 100, 1E-8: as short as the value allows. */
    private static String number(double value) {
        BigDecimal exact = BigDecimal.valueOf(value).stripTrailingZeros();
        return exact.scale() <= 0 ? exact.toPlainString() : exact.toString();
    }
}
