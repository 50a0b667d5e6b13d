package dev.pricer.data.curate;

import dev.pricer.core.tokenizer.Tokenizer;
import dev.pricer.data.CuratedItem;
import dev.pricer.data.Item;

import java.util.Arrays;

/**
 * The per-item steps of curation, in the course's order: price range, text from the chosen fields with
 * boilerplate and part numbers removed, a minimum length, then the token limits of the model's tokenizer.
 * Safe to call from several threads: it keeps no state, and the tokenizer is thread-safe.
 */
public final class Curator {

    /** Why an item did not pass. */
    public enum Drop { PRICE_OUT_OF_RANGE, TOO_FEW_CHARS, TOO_FEW_TOKENS }

    /** What curation made of one item: exactly one of the two is set. */
    public record Outcome(CuratedItem item, Drop drop) {
        static Outcome kept(CuratedItem item) {
            return new Outcome(item, null);
        }

        static Outcome dropped(Drop drop) {
            return new Outcome(null, drop);
        }
    }

    private final CurationConfig config;
    private final TextBuilder text;
    private final Tokenizer tokenizer;

    /** {@code tokenizer} may be null only when the config turns the token steps off. */
    public Curator(CurationConfig config, Tokenizer tokenizer) {
        if (config.limitTokens() && tokenizer == null) {
            throw new IllegalArgumentException("the token steps need the model's tokenizer (or turn them off)");
        }
        this.config = config;
        this.text = new TextBuilder(config);
        this.tokenizer = tokenizer;
    }

    public Outcome curate(Item item) {
        double price = item.price();
        if (!(price >= config.minPrice() && price <= config.maxPrice())) return Outcome.dropped(Drop.PRICE_OUT_OF_RANGE);
        String contents = text.contents(item);
        // The course kept contents strictly longer than the minimum.
        if (TextBuilder.codePoints(contents) <= config.minChars()) return Outcome.dropped(Drop.TOO_FEW_CHARS);
        String body = text.text(item.title(), contents);
        if (!config.limitTokens()) {
            return Outcome.kept(new CuratedItem(item.title(), item.category(), price, body, 0));
        }
        int[] ids = tokenizer.encode(body, false);
        if (ids.length <= config.minTokens()) return Outcome.dropped(Drop.TOO_FEW_TOKENS);
        if (ids.length > config.maxTokens()) {
            ids = Arrays.copyOf(ids, config.maxTokens());
            body = tokenizer.decode(ids);
        }
        return Outcome.kept(new CuratedItem(item.title(), item.category(), price, body, ids.length));
    }

    public CurationConfig config() {
        return config;
    }
}
