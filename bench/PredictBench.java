import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.tokenizer.Tokenizer;
import dev.pricer.data.CuratedItem;
import dev.pricer.eval.predict.Decoding;
import dev.pricer.eval.predict.PricePredictor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Price predictions per second on the CPU: the same prompts batched and one at a time, greedy and weighted,
 * on a random Llama-shaped model (the numbers measure the engine's work, not the answers).
 * Args: ITEMS BATCH. Run through bench/eval-predict.sh.
 */
public class PredictBench {
    public static void main(String[] args) throws Exception {
        int items = Integer.parseInt(args[0]), batch = Integer.parseInt(args[1]);
        Path dir = Files.createTempDirectory("predict-bench");
        Files.writeString(dir.resolve("config.json"), """
                {"model_type": "llama", "hidden_act": "silu", "hidden_size": 512, "intermediate_size": 1376, "num_hidden_layers": 4, "num_attention_heads": 8,
                 "num_key_value_heads": 4, "head_dim": 64, "vocab_size": 512, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
                 "max_position_embeddings": 4096, "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": false}
                """);
        Files.copy(Path.of("pricer-eval/src/test/resources/tiny/base/tokenizer.json"), dir.resolve("tokenizer.json"));
        List<CuratedItem> test = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            String text = "Item " + i + "\nA sturdy steel widget, model W-" + (1000 + i) + ", with a two year warranty and "
                    + "a matte finish. Fits most standard mounts; weighs " + (i % 17 + 1) + " kg.";
            test.add(new CuratedItem("Item " + i, "Bench", 10 + i, text, 0));
        }
        try (Tokenizer tokenizer = Tokenizer.load(dir);
             LlamaModel model = LlamaModel.initialize(LlamaConfig.read(dir), new CpuBackend(), 0.02, 1, false)) {
            System.out.printf("model: hidden 512, 4 layers, prompts of ~%d tokens, %d items, %d cores%n",
                    tokenizer.encode(test.getFirst().testPrompt(), true).length, items, Runtime.getRuntime().availableProcessors());
            for (Decoding d : Decoding.values()) {
                PricePredictor batched = new PricePredictor("b", model, tokenizer, d, 3, batch);
                PricePredictor single = new PricePredictor("s", model, tokenizer, d, 3, 1);
                batched.estimate(test.subList(0, Math.min(items, batch)));   // warm-up
                single.estimate(test.subList(0, 2));
                double b = rate(batched, test), s = rate(single, test);
                System.out.printf("%-8s batched (%d): %7.1f predictions/s   one at a time: %7.1f predictions/s   ratio %.2fx%n",
                        d.name().toLowerCase(), batch, b, s, b / s);
            }
        }
    }

    private static double rate(PricePredictor p, List<CuratedItem> items) {
        long t0 = System.nanoTime();
        p.estimate(items);
        return items.size() / ((System.nanoTime() - t0) / 1e9);
    }
}
