package dev.pricer.eval.tester;

import dev.pricer.data.CuratedItem;
import dev.pricer.eval.predict.Estimator;
import dev.pricer.eval.predict.Guess;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/** The course's Tester: every estimator prices the same items (the first {@code size} of the test split). */
public final class Tester {

    public static final int DEFAULT_SIZE = 250;

    private final List<CuratedItem> items;

    public Tester(List<CuratedItem> testItems, int size) {
        if (size < 1) throw new IllegalArgumentException("the test size must be at least 1, got " + size);
        if (testItems.isEmpty()) throw new IllegalArgumentException("there are no test items");
        this.items = List.copyOf(testItems.subList(0, Math.min(size, testItems.size())));
    }

    public List<CuratedItem> items() {
        return items;
    }

    public Report run(Estimator estimator) {
        return run(estimator, done -> { });
    }

    /** As {@link #run(Estimator)}, telling {@code progress} how many items are priced as it goes. */
    public Report run(Estimator estimator, IntConsumer progress) {
        List<Guess> guesses = estimator.estimate(items, progress);
        if (guesses.size() != items.size()) {
            throw new IllegalStateException(estimator.name() + " gave " + guesses.size() + " guesses for " + items.size() + " items");
        }
        List<Scored> scored = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            Guess g = guesses.get(i);
            scored.add(Scored.of(items.get(i).title(), items.get(i).price(), g.price(), g.miss()));
        }
        return Report.of(estimator.name(), scored);
    }
}
