package dev.pricer.data.read;

import java.util.List;
import java.util.Objects;

/**
 * The user's naming of columns, for {@link Layout#COLUMNS}: the text is the named columns joined by newlines
 * (a column called {@code title} becomes the title line), the price is one column, and the category optional.
 */
public record Columns(List<String> text, String price, String category) {

    public Columns {
        text = List.copyOf(text);
        if (text.isEmpty()) throw new IllegalArgumentException("name at least one text column");
        Objects.requireNonNull(price, "price column");
    }
}
