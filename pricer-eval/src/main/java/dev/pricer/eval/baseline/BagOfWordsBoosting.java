package dev.pricer.eval.baseline;

import dev.pricer.data.CuratedItem;
import dev.pricer.eval.predict.Estimator;
import dev.pricer.eval.predict.Guess;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Gradient-boosted trees (XGBoost) on the {@link BagOfWords} counts, squared error on the price. */
public final class BagOfWordsBoosting implements Estimator {

    private static final int ROUNDS = 100;

    private final BagOfWords words;
    private final Booster booster;

    private BagOfWordsBoosting(BagOfWords words, Booster booster) {
        this.words = words;
        this.booster = booster;
    }

    public static BagOfWordsBoosting fit(List<CuratedItem> train, long seed) {
        BagOfWords words = BagOfWords.fit(train);
        float[] labels = new float[train.size()];
        for (int i = 0; i < labels.length; i++) labels[i] = (float) train.get(i).price();
        try {
            DMatrix data = matrix(words, train);
            try {
                data.setLabel(labels);
                Map<String, Object> params = Map.of("objective", "reg:squarederror", "max_depth", 6, "eta", 0.1,
                        "nthread", Runtime.getRuntime().availableProcessors(), "seed", seed, "verbosity", 0);
                return new BagOfWordsBoosting(words, XGBoost.train(data, params, ROUNDS, Map.of(), null, null));
            } finally {
                data.dispose();
            }
        } catch (XGBoostError e) {
            throw new IllegalStateException("XGBoost could not train: " + e.getMessage(), e);
        }
    }

    private static DMatrix matrix(BagOfWords words, List<CuratedItem> items) throws XGBoostError {
        long[] rows = new long[items.size() + 1];
        List<Integer> columns = new ArrayList<>();
        List<Float> values = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            for (var e : words.counts(items.get(i).text()).entrySet()) {
                columns.add(e.getKey());
                values.add((float) e.getValue());
            }
            rows[i + 1] = columns.size();
        }
        float[] data = new float[values.size()];
        for (int i = 0; i < data.length; i++) data[i] = values.get(i);
        return new DMatrix(rows, columns.stream().mapToInt(Integer::intValue).toArray(), data, DMatrix.SparseType.CSR, words.size());
    }

    @Override
    public String name() {
        return "bag of words + XGBoost";
    }

    @Override
    public List<Guess> estimate(List<CuratedItem> items) {
        try {
            DMatrix data = matrix(words, items);
            try {
                float[][] out = booster.predict(data);
                List<Guess> guesses = new ArrayList<>(items.size());
                for (float[] row : out) guesses.add(Guess.of(row[0]));
                return guesses;
            } finally {
                data.dispose();
            }
        } catch (XGBoostError e) {
            throw new IllegalStateException("XGBoost could not predict: " + e.getMessage(), e);
        }
    }
}
