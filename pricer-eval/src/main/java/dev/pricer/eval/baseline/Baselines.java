package dev.pricer.eval.baseline;

import dev.pricer.data.CuratedItem;
import dev.pricer.eval.predict.Estimator;
import dev.pricer.eval.predict.Guess;

import java.util.List;
import java.util.SplittableRandom;

/** The course's simple baselines, each fitted on the training split and scored on the Tester's items. */
public final class Baselines {

    private Baselines() {
    }

    /** All of them, fitted on {@code train}. */
    public static List<Estimator> all(List<CuratedItem> train, long seed) {
        return List.of(random(seed), constant(train), TextFeatureRegression.fit(train), BagOfWordsRegression.fit(train),
                BagOfWordsBoosting.fit(train, seed));
    }

    /** A uniform whole-dollar guess from 1 to 999, as the course's random pricer made. */
    public static Estimator random(long seed) {
        return new Estimator() {
            public String name() {
                return "random";
            }

            public List<Guess> estimate(List<CuratedItem> items) {
                SplittableRandom rng = new SplittableRandom(seed);
                return items.stream().map(i -> Guess.of(rng.nextInt(1, 1000))).toList();
            }
        };
    }

    /** Always the mean training price. */
    public static Estimator constant(List<CuratedItem> train) {
        if (train.isEmpty()) throw new IllegalArgumentException("no training items to take the mean price of");
        double mean = train.stream().mapToDouble(CuratedItem::price).average().orElseThrow();
        return new Estimator() {
            public String name() {
                return "constant (training mean)";
            }

            public List<Guess> estimate(List<CuratedItem> items) {
                return items.stream().map(i -> Guess.of(mean)).toList();
            }
        };
    }
}
