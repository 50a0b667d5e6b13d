package dev.pricer.eval.predict;

import dev.pricer.data.CuratedItem;

import java.util.List;
import java.util.function.IntConsumer;

/** Anything that prices items: a fine-tuned model at a revision, the base model, or a baseline. */
public interface Estimator {

    String name();

    /** One guess per item, in order. */
    List<Guess> estimate(List<CuratedItem> items);

    /**
     * As {@link #estimate(List)}, telling {@code progress} how many items are done as it goes: a model prices a
     * test set in minutes, where a baseline takes moments and tells only its end.
     */
    default List<Guess> estimate(List<CuratedItem> items, IntConsumer progress) {
        List<Guess> guesses = estimate(items);
        progress.accept(guesses.size());
        return guesses;
    }
}
