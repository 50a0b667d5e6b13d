package dev.pricer.data.read;

import dev.pricer.data.CuratedItem;
import dev.pricer.data.Item;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a split that {@code pricer data curate} wrote (or a published prompt dataset): a file, a glob, or a
 * dataset folder from which the named split is taken (the Tester's test items, the trainer's examples). Items come
 * back in file order, at most {@code limit}.
 */
public final class Splits {

    private Splits() {
    }

    public static List<CuratedItem> read(Path input, String split, int limit) {
        List<CuratedItem> items = new ArrayList<>();
        try (ItemReader reader = ItemReader.open(new Source(Source.resolve(input, split), Layout.PROMPTS, null, null))) {
            while (items.size() < limit && reader.hasNext()) {
                if (reader.next() instanceof Row.Parsed(String where, Item item)) {
                    // The prompt layout splits the text at its first line into title and description; join them back.
                    String body = String.join("\n", item.description());
                    String text = item.title().isEmpty() ? body : body.isEmpty() ? item.title() : item.title() + "\n" + body;
                    items.add(new CuratedItem(item.title(), item.category(), item.price(), text, 0));
                }
            }
        }
        if (items.isEmpty()) throw new IllegalArgumentException("no items in the " + split + " split of " + input);
        return items;
    }
}
