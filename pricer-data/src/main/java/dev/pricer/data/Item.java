package dev.pricer.data;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A product as a source describes it, before curation. Raw Amazon metadata fills every part; a prompt dataset
 * or a user's CSV fills the title and description from its text columns. {@code details} keeps the source's
 * key order because the course's text keeps it too.
 */
public record Item(String title, String category, List<String> description, List<String> features,
                   Map<String, String> details, double price) {

    public Item {
        title = Objects.requireNonNullElse(title, "");
        category = Objects.requireNonNullElse(category, "");
        description = List.copyOf(description);
        features = List.copyOf(features);
        details = Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }

    /** An item whose whole description is one text, the shape of prompt datasets and plain CSV files. */
    public static Item ofText(String title, String text, String category, double price) {
        return new Item(title, category, text.isEmpty() ? List.of() : List.of(text), List.of(), Map.of(), price);
    }
}
