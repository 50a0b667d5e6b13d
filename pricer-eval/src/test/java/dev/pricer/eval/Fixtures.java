package dev.pricer.eval;

import dev.pricer.core.backend.AdamW;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.core.lora.LoraConfig;
import dev.pricer.core.model.Batch;
import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.model.Parameter;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tokenizer.Tokenizer;
import dev.pricer.data.CuratedItem;
import dev.pricer.data.Prompts;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The tiny Llama fixture (vocab 512, with the test tokenizer that splits digits in groups of three) and LoRA
 * adapters trained here to answer given prices, so tests know what a correct prediction is.
 */
public final class Fixtures {

    /** Items whose prices take one, two and three number tokens ({@code 7}; {@code 123}{@code 4}; {@code 105}{@code 00}). */
    public static final List<CuratedItem> ITEMS = List.of(
            item("Blue kettle", 7), item("Oak desk with drawers", 1234), item("Red bike", 10500), item("Lamp", 86));

    private static final Map<String, Path> trained = new HashMap<>();

    private Fixtures() {
    }

    public static CuratedItem item(String text, double price) {
        return new CuratedItem(text, "Test", price, text, 0);
    }

    public static Path base() {
        try {
            return Path.of(Fixtures.class.getResource("/tiny/base/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A LoRA adapter (r 8 on every projection) trained until it answers each item's price; cached per JVM. */
    public static synchronized Path trainedAdapter(List<CuratedItem> items, long seed) throws Exception {
        String key = items + "/" + seed;
        Path cached = trained.get(key);
        if (cached != null) return cached;
        Path dir = Files.createTempDirectory("pricer-eval-adapter");
        Backend backend = new CpuBackend();
        try (Tokenizer tokenizer = Tokenizer.load(base()); LlamaModel model = LlamaModel.load(base(), backend)) {
            model.createAdapter(new LoraConfig(8, 16, 0, LoraConfig.ALL_PROJECTIONS, false), seed);
            int[][] ids = new int[items.size()][];
            int[][] labels = new int[items.size()][];
            for (int i = 0; i < items.size(); i++) {
                int[] prompt = tokenizer.encode(items.get(i).testPrompt(), true);
                int[] full = tokenizer.encode(items.get(i).prompt(), true);
                ids[i] = full;
                labels[i] = full.clone();
                java.util.Arrays.fill(labels[i], 0, prompt.length, Batch.IGNORE);
            }
            Batch batch = Batch.rightPadded(ids, labels);
            Map<String, Buffer[]> moments = new HashMap<>();
            for (Parameter p : model.trainableParameters()) {
                moments.put(p.name(), new Buffer[]{backend.allocate(DType.F32, p.value().length()), backend.allocate(DType.F32, p.value().length())});
            }
            double previous = Double.POSITIVE_INFINITY;
            for (int step = 1; step <= 300; step++) {
                model.zeroGradients();
                double loss = model.forwardBackward(batch, 1f / batch.labelTokens()).sum() / batch.labelTokens();
                double norm = Math.sqrt(model.trainableParameters().stream().mapToDouble(p -> backend.sumOfSquares(p.grad())).sum());
                for (Parameter p : model.trainableParameters()) {
                    if (norm > 1) backend.scale(p.grad(), (float) (1 / norm));
                    Buffer[] m = moments.get(p.name());
                    backend.adamw(p.value(), p.grad(), m[0], m[1], new AdamW(1e-2f, 0.9f, 0.999f, 1e-8f, 0f, step));
                }
                // Stop once the loss stops falling: the answers are learnt well before that.
                if (step % 10 == 0) {
                    if (previous - loss < 1e-3) break;
                    previous = loss;
                }
            }
            model.saveAdapter(dir, BaseModelRef.of(base().toString()));
        }
        trained.put(key, dir);
        return dir;
    }

    public static List<String> prompts(List<CuratedItem> items) {
        List<String> out = new ArrayList<>();
        for (CuratedItem i : items) out.add(Prompts.test(i.text()));
        return out;
    }
}
