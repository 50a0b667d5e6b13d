package dev.pricer.eval.predict;

import dev.pricer.data.CuratedItem;

import java.util.List;

/** Anything that prices items: a fine-tuned model at a revision, the base model, or a baseline. */
public interface Estimator {

    String name();

    /** One guess per item, in order. */
    List<Guess> estimate(List<CuratedItem> items);
}
