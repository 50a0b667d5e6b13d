package dev.pricer.eval.baseline;

import dev.pricer.data.CuratedItem;
import dev.pricer.eval.predict.Estimator;
import dev.pricer.eval.predict.Guess;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.RealVector;

import java.util.List;
import java.util.Map;

/**
 * Linear regression of the price on the {@link BagOfWords} counts. A small ridge term keeps the normal equations
 * solvable when words always occur together.
 */
public final class BagOfWordsRegression implements Estimator {

    private static final double RIDGE = 1.0;

    private final BagOfWords words;
    private final double intercept;
    private final double[] weights;

    private BagOfWordsRegression(BagOfWords words, double intercept, double[] weights) {
        this.words = words;
        this.intercept = intercept;
        this.weights = weights;
    }

    public static BagOfWordsRegression fit(List<CuratedItem> train) {
        BagOfWords words = BagOfWords.fit(train);
        int v = words.size();
        double mean = train.stream().mapToDouble(CuratedItem::price).average().orElseThrow();
        // Normal equations on centred targets: (X'X + ridge I) w = X'(y - mean).
        double[][] xtx = new double[v][v];
        double[] xty = new double[v];
        for (CuratedItem item : train) {
            Map<Integer, Integer> counts = words.counts(item.text());
            for (var a : counts.entrySet()) {
                xty[a.getKey()] += a.getValue() * (item.price() - mean);
                for (var b : counts.entrySet()) xtx[a.getKey()][b.getKey()] += (double) a.getValue() * b.getValue();
            }
        }
        for (int i = 0; i < v; i++) xtx[i][i] += RIDGE;
        RealVector w = new CholeskyDecomposition(new Array2DRowRealMatrix(xtx, false)).getSolver().solve(new ArrayRealVector(xty, false));
        return new BagOfWordsRegression(words, mean, w.toArray());
    }

    @Override
    public String name() {
        return "bag of words + linear regression";
    }

    @Override
    public List<Guess> estimate(List<CuratedItem> items) {
        return items.stream().map(i -> {
            double y = intercept;
            for (var e : words.counts(i.text()).entrySet()) y += weights[e.getKey()] * e.getValue();
            return Guess.of(y);
        }).toList();
    }
}
