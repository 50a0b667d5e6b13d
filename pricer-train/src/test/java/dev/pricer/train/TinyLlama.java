package dev.pricer.train;

import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.tensor.HostTensor;
import dev.pricer.train.data.EncodedDataset;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;

/** The golden fixture from transformers + PEFT in test resources ({@code hf-tiny-llama/README.md} says what is in it). */
public final class TinyLlama {

    private TinyLlama() {
    }

    public static Path root() {
        try {
            return Path.of(TinyLlama.class.getResource("/hf-tiny-llama/summary.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Path model() {
        return root().resolve("tiny-llama");
    }

    /**
     * The adapter the fixture's 12-step run started from, which the fixture does not store: its {@code lora_A}
     * came from PEFT's initialisation at an unsaved point of torch's RNG. {@code make_run_initial_lora.py}
     * replays that RNG from {@code torch.manual_seed(99)}; its {@code lora_B} equals the fixture's
     * {@code param.*lora_B} bit for bit, which is how we know the replay is right.
     */
    public static Path runInitialAdapter() {
        return root().resolve("run-initial-lora");
    }

    public static Map<String, HostTensor> expected() {
        return SafeTensors.readAll(root().resolve("tiny-llama-expected.safetensors"));
    }

    /**
     * The fixture run's micro-batches {@code run.input_ids [steps·accum, rows, seq]} as a dataset of their rows,
     * in order, each row masked where {@code run.labels} is -100 (a prefix, as the collator makes it).
     */
    public static EncodedDataset runExamples(Map<String, HostTensor> expected) {
        HostTensor ids = expected.get("run.input_ids");
        int[] tokens = ids.toIntArray();
        int[] labels = expected.get("run.labels").toIntArray();
        long[] shape = ids.shape();
        int rows = (int) (shape[0] * shape[1]), seq = (int) shape[2];
        int[] offsets = new int[rows + 1];
        int[] masked = new int[rows];
        for (int r = 0; r < rows; r++) {
            offsets[r + 1] = offsets[r] + seq;
            int m = 0;
            while (m < seq && labels[r * seq + m] == -100) m++;
            for (int t = m; t < seq; t++) {
                if (labels[r * seq + t] != tokens[r * seq + t]) throw new IllegalStateException("fixture labels are not a masked prefix");
            }
            masked[r] = m;
        }
        return new EncodedDataset(tokens, offsets, masked, 0, 0);
    }
}
