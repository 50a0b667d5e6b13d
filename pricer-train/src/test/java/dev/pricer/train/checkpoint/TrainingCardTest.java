package dev.pricer.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.pricer.train.config.TrainingArguments;
import dev.pricer.train.config.TrainingArgumentsIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingCardTest {

    @TempDir
    Path dir;

    private static final TrainingCard.Model QLORA = new TrainingCard.Model("meta-llama/Llama-3.1-8B", "peft", List.of("pricer", "qlora"),
            "A QLoRA adapter of `meta-llama/Llama-3.1-8B@0123456`");

    private String card(TrainingArguments args, List<Map<String, Object>> history) throws Exception {
        TrainerState state = new TrainerState(200, 0.5, 400, 1, 50, 100, 100, 4, history, new TrainerState.DataPosition(0, 200), "f00d", 1600);
        Path file = dir.resolve(TrainingCard.FILE);
        TrainingCard.write(file, QLORA, args, state);
        return Files.readString(file);
    }

    /** The metadata the Hub reads (and PEFT writes), between "---" lines, then the card for people. */
    @Test
    void theCardHasTheHubsMetadataAndTheLossesByEvaluation() throws Exception {
        TrainingArguments args = TrainingArgumentsIO.load(null, Map.of("quantize", "nf4", "lora_r", "32", "lora_alpha", "64",
                "lora_target_modules", "q_proj,k_proj,v_proj,o_proj", "learning_rate", "1e-4", "max_grad_norm", "100"));
        String card = card(args, List.of(
                Map.of("loss", 2.5, "epoch", 0.125, "step", 50), Map.of("loss", 2.0, "epoch", 0.25, "step", 100),
                Map.of("eval_loss", 2.2, "epoch", 0.25, "step", 100), Map.of("loss", 1.5, "epoch", 0.5, "step", 200),
                Map.of("eval_loss", 1.75, "epoch", 0.5, "step", 200)));
        String[] parts = card.split("(?m)^---$", 3);
        assertEquals("", parts[0], "the metadata block opens the card");
        JsonNode metadata = new YAMLMapper().readTree(parts[1]);
        assertEquals("meta-llama/Llama-3.1-8B", metadata.get("base_model").asText());
        assertEquals("peft", metadata.get("library_name").asText());
        assertEquals(List.of("pricer", "qlora"), List.of(metadata.get("tags").get(0).asText(), metadata.get("tags").get(1).asText()));
        String text = parts[2];
        assertTrue(text.contains("# Checkpoint at step 200 of 400"), text);
        assertTrue(text.contains("A QLoRA adapter of `meta-llama/Llama-3.1-8B@0123456`, trained by Pricer"), text);
        assertTrue(text.contains("prompt ends in `Price is $`"), text);
        assertTrue(text.contains("1,600 training examples (fingerprint `f00d`)"), text);
        assertTrue(text.contains("| step | epoch | training loss | eval loss |\n|---|---|---|---|\n"
                + "| 100 | 0.25 | 2.0000 | 2.2000 |\n| 200 | 0.50 | 1.5000 | 1.7500 |\n"), "a row per evaluation: " + text);
        assertTrue(text.contains("- learning_rate: 0.0001\n") && text.contains("- optimizer: AdamW (betas 0.9, 0.999; epsilon 1E-8; weight decay 0)\n")
                && text.contains("- lora: r 32, alpha 64, dropout 0.05, on q_proj, k_proj, v_proj, o_proj\n")
                && text.contains("- max_grad_norm: 100\n") && text.contains("- quantize: nf4\n"), text);
    }

    @Test
    void withoutEvaluationsTheCardListsTheLastTrainingLosses() throws Exception {
        List<Map<String, Object>> history = new java.util.ArrayList<>();
        for (int step = 1; step <= 30; step++) history.add(Map.of("loss", 3.0 / step, "epoch", step / 60.0, "step", step));
        String card = card(TrainingArgumentsIO.load(null, Map.of()), history);
        assertTrue(card.contains("| step | epoch | training loss |\n|---|---|---|\n| 11 | 0.18 | 0.2727 |\n"), "the last 20 rows: " + card);
        assertTrue(card.contains("| 30 | 0.50 | 0.1000 |\n\n## Training hyperparameters"), card);
        assertTrue(!card.contains("eval loss"), card);
        assertTrue(new YAMLMapper().readTree(card.split("(?m)^---$", 3)[1]).isObject());
        assertTrue(!card.contains("datasets:") && !card.contains("of the dataset"), "no dataset named without one: " + card);
    }

    /** Examples from a hub dataset: the card names it, in the metadata the Hub links from and in the text. */
    @Test
    void aHubDatasetIsNamed() throws Exception {
        String card = card(TrainingArgumentsIO.load(null, Map.of("dataset_name", "shop/prices")), List.of(Map.of("loss", 1.0, "epoch", 0.5, "step", 200)));
        JsonNode metadata = new YAMLMapper().readTree(card.split("(?m)^---$", 3)[1]);
        assertEquals("shop/prices", metadata.get("datasets").get(0).asText());
        assertTrue(card.contains("1,600 training examples of the dataset `shop/prices` (fingerprint `f00d`)"), card);
    }
}
