package dev.pricer.eval.baseline;

import dev.pricer.data.CuratedItem;
import dev.pricer.eval.predict.Estimator;
import dev.pricer.eval.predict.Guess;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.RealVector;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The course's bag of words: counts of the most frequent words (stop words left out), then a linear regression
 * of the price on them. A small ridge term keeps the normal equations solvable when words always co-occur.
 */
public final class BagOfWordsRegression implements Estimator {

    public static final int MAX_WORDS = 1000;
    private static final double RIDGE = 1.0;
    private static final Set<String> STOP_WORDS = Set.of("a", "an", "and", "are", "as", "at", "be", "by", "for", "from",
            "has", "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "with", "you", "your", "our");

    private final Map<String, Integer> vocabulary;
    private final double intercept;
    private final double[] weights;

    private BagOfWordsRegression(Map<String, Integer> vocabulary, double intercept, double[] weights) {
        this.vocabulary = vocabulary;
        this.intercept = intercept;
        this.weights = weights;
    }

    public static BagOfWordsRegression fit(List<CuratedItem> train) {
        if (train.isEmpty()) throw new IllegalArgumentException("no training items for the bag-of-words regression");
        Map<String, Integer> frequency = new HashMap<>();
        for (CuratedItem item : train) for (String w : words(item.text())) frequency.merge(w, 1, Integer::sum);
        Map<String, Integer> vocabulary = new LinkedHashMap<>();
        frequency.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(MAX_WORDS).forEach(e -> vocabulary.put(e.getKey(), vocabulary.size()));
        int v = vocabulary.size();
        double mean = train.stream().mapToDouble(CuratedItem::price).average().orElseThrow();
        // Normal equations on centred targets: (X'X + ridge I) w = X'(y - mean).
        double[][] xtx = new double[v][v];
        double[] xty = new double[v];
        for (CuratedItem item : train) {
            Map<Integer, Integer> counts = counts(item.text(), vocabulary);
            for (var a : counts.entrySet()) {
                xty[a.getKey()] += a.getValue() * (item.price() - mean);
                for (var b : counts.entrySet()) xtx[a.getKey()][b.getKey()] += (double) a.getValue() * b.getValue();
            }
        }
        for (int i = 0; i < v; i++) xtx[i][i] += RIDGE;
        RealVector w = new CholeskyDecomposition(new Array2DRowRealMatrix(xtx, false)).getSolver().solve(new ArrayRealVector(xty, false));
        return new BagOfWordsRegression(vocabulary, mean, w.toArray());
    }

    static List<String> words(String text) {
        return Arrays.stream(text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+"))
                .filter(w -> w.length() > 1 && !STOP_WORDS.contains(w)).toList();
    }

    private static Map<Integer, Integer> counts(String text, Map<String, Integer> vocabulary) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (String w : words(text)) {
            Integer id = vocabulary.get(w);
            if (id != null) counts.merge(id, 1, Integer::sum);
        }
        return counts;
    }

    @Override
    public String name() {
        return "bag of words + linear regression";
    }

    @Override
    public List<Guess> estimate(List<CuratedItem> items) {
        return items.stream().map(i -> {
            double y = intercept;
            for (var e : counts(i.text(), vocabulary).entrySet()) y += weights[e.getKey()] * e.getValue();
            return Guess.of(y);
        }).toList();
    }
}
