package dev.pricer.train.data;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.data.read.Splits;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Training examples from a JSON-lines file, or from a dataset: a folder's train split (a curated output, a hub
 * dataset's snapshot: {@code data/train-*.parquet}, {@code train.jsonl}, ...), or a Parquet or CSV file of items with
 * {@code text} and {@code price}. Each JSON line holds either {@code prompt} and {@code completion}, or
 * an item's {@code text} and {@code price} (as {@code pricer data curate} writes them), which become the
 * course's prompt {@code QUESTION\n\n{text}\n\nPrice is $} and completion {@code {round(price)}.00}.
 * A line that is neither is an error naming the file and line: training on silently thinned data is worse
 * than not starting.
 */
public final class ExamplesFile {

    static final String QUESTION = "How much does this cost to the nearest dollar?";
    static final String PRICE_PREFIX = "Price is $";
    static final String TRAIN_SPLIT = "train";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ExamplesFile() {
    }

    public static List<Example> read(Path file) {
        return read(file, Integer.MAX_VALUE);
    }

    /**
     * Reads the file's first example, failing as {@link #read} would on it: a run checks its data so before it starts,
     * so that a wrong or missing file leaves no run behind.
     */
    public static void checkStart(Path file) {
        read(file, 1);
    }

    /** JSON lines as above; a dataset folder (its train split), Parquet or CSV through pricer-data's readers, as items. */
    private static List<Example> read(Path file, int most) {
        if (isJsonLines(file)) return readJsonLines(file, most);
        return Splits.read(file, TRAIN_SPLIT, most).stream().map(item -> ofItem(item.text(), item.price())).toList();
    }

    private static boolean isJsonLines(Path file) {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return !Files.isDirectory(file) && (name.endsWith(".jsonl") || name.endsWith(".json") || name.endsWith(".ndjson") || !Files.exists(file));
    }

    private static List<Example> readJsonLines(Path file, int most) {
        List<Example> out = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file)) {
            String line;
            int number = 0;
            while (out.size() < most && (line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) continue;
                out.add(parse(line, file, number));
            }
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("cannot read training data " + file + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read training data " + file + ": " + e, e);
        }
        if (out.isEmpty()) throw new IllegalArgumentException(file + ": no examples");
        return out;
    }

    private static Example parse(String line, Path file, int number) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(file + ":" + number + ": not JSON: " + e.getOriginalMessage(), e);
        }
        if (node != null && node.path("prompt").isTextual() && node.path("completion").isTextual()) {
            return new Example(node.get("prompt").asText(), node.get("completion").asText());
        }
        if (node != null && node.path("text").isTextual() && node.path("price").isNumber()) {
            double price = node.get("price").asDouble();
            if (!(price >= 0) || Double.isInfinite(price)) {
                throw new IllegalArgumentException(file + ":" + number + ": price " + price + " is not a non-negative number");
            }
            return ofItem(node.get("text").asText(), price);
        }
        throw new IllegalArgumentException(file + ":" + number + ": expected \"prompt\" and \"completion\" strings, or \"text\" and a numeric \"price\"");
    }

    /** The course's prompt for an item's text, and its price to the nearest dollar as the completion. */
    private static Example ofItem(String text, double price) {
        return new Example(QUESTION + "\n\n" + text + "\n\n" + PRICE_PREFIX, (long) Math.rint(price) + ".00");
    }
}
