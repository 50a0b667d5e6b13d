package dev.pricer.eval.baseline;

import dev.pricer.data.CuratedItem;
import dev.pricer.eval.predict.Estimator;
import dev.pricer.eval.predict.Guess;
import org.apache.commons.math3.stat.regression.OLSMultipleLinearRegression;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ordinary least squares of the price on a few features a person would try first: the text's length in
 * characters and in words, how many numbers it quotes, and the log of the largest of them.
 */
public final class TextFeatureRegression implements Estimator {

    private static final Pattern NUMBER = Pattern.compile("\\d+(?:\\.\\d+)?");

    private final double[] beta;

    private TextFeatureRegression(double[] beta) {
        this.beta = beta;
    }

    public static TextFeatureRegression fit(List<CuratedItem> train) {
        if (train.size() <= 5) throw new IllegalArgumentException("linear regression needs more than 5 training items, got " + train.size());
        double[][] x = train.stream().map(i -> features(i.text())).toArray(double[][]::new);
        double[] y = train.stream().mapToDouble(CuratedItem::price).toArray();
        OLSMultipleLinearRegression ols = new OLSMultipleLinearRegression();
        ols.newSampleData(y, x);
        return new TextFeatureRegression(ols.estimateRegressionParameters());
    }

    static double[] features(String text) {
        Matcher m = NUMBER.matcher(text);
        int numbers = 0;
        double largest = 0;
        while (m.find()) {
            numbers++;
            largest = Math.max(largest, Double.parseDouble(m.group()));
        }
        String trimmed = text.strip();
        int words = trimmed.isEmpty() ? 0 : trimmed.split("\\s+").length;
        return new double[]{text.length(), words, numbers, Math.log1p(largest)};
    }

    @Override
    public String name() {
        return "linear regression (text features)";
    }

    @Override
    public List<Guess> estimate(List<CuratedItem> items) {
        return items.stream().map(i -> {
            double[] f = features(i.text());
            double y = beta[0];
            for (int j = 0; j < f.length; j++) y += beta[j + 1] * f[j];
            return Guess.of(y);
        }).toList();
    }
}
