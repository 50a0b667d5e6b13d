package dev.pricer.data.synth;

import dev.pricer.data.Item;
import dev.pricer.data.curate.CurationConfig;
import dev.pricer.data.curate.TextBuilder;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CatalogGeneratorTest {

    @Test
    void theSameSeedGivesTheSameCatalog() {
        assertEquals(new CatalogGenerator(7).items(50), new CatalogGenerator(7).items(50));
        assertNotEquals(new CatalogGenerator(7).items(50), new CatalogGenerator(8).items(50));
    }

    @Test
    void coversTheCoursesCategoriesAndPriceRange() {
        List<Item> items = new CatalogGenerator(1).items(3000);
        Set<String> categories = items.stream().map(Item::category).collect(Collectors.toSet());
        assertEquals(Set.of("Automotive", "Electronics", "Office_Products", "Tools_and_Home_Improvement",
                "Cell_Phones_and_Accessories", "Toys_and_Games", "Appliances", "Musical_Instruments"), categories);
        double min = items.stream().mapToDouble(Item::price).min().orElseThrow();
        double max = items.stream().mapToDouble(Item::price).max().orElseThrow();
        assertTrue(min >= 1 && min < 10, "min " + min);
        assertTrue(max <= 999 && max > 500, "max " + max);
    }

    @Test
    void itemsAreLongEnoughForTheCoursesCuration() {
        TextBuilder text = new TextBuilder(CurationConfig.course());
        for (Item item : new CatalogGenerator(2).items(200)) {
            assertTrue(text.contents(item).length() > 300, item.title());
        }
    }

    /**
     * Learnability: a bag-of-words linear regression of log price, fitted on 2,400 items,
     * predicts 600 held-out items far better than always answering the mean training price.
     */
    @Test
    void bagOfWordsRegressionBeatsTheMeanByAWideMargin() {
        List<Item> items = new CatalogGenerator(11).items(3000);
        TextBuilder text = new TextBuilder(CurationConfig.course());
        Map<String, Integer> vocab = new HashMap<>();
        int[][] docs = new int[items.size()][];
        for (int i = 0; i < items.size(); i++) {
            Item item = items.get(i);
            String body = text.text(item.title(), text.contents(item)).toLowerCase(Locale.ROOT);
            docs[i] = java.util.Arrays.stream(body.split("[^a-z0-9]+")).filter(w -> !w.isEmpty()).distinct()
                    .mapToInt(w -> vocab.computeIfAbsent(w, k -> vocab.size())).toArray();
        }
        int train = 2400;
        double[] y = items.stream().mapToDouble(it -> Math.log(it.price())).toArray();
        double bias = java.util.Arrays.stream(y, 0, train).average().orElseThrow();
        // Ridge regression, (X'X + lambda I) w = X'(y - bias), solved by conjugate gradients.
        double lambda = 1.0;
        double[] b = new double[vocab.size()];
        for (int i = 0; i < train; i++) for (int f : docs[i]) b[f] += y[i] - bias;
        double[] w = new double[vocab.size()];
        double[] r = b.clone(), p = b.clone();
        double rr = dot(r, r);
        for (int iter = 0; iter < 300 && rr > 1e-12; iter++) {
            double[] ap = new double[w.length];
            for (int i = 0; i < train; i++) {
                double xp = 0;
                for (int f : docs[i]) xp += p[f];
                for (int f : docs[i]) ap[f] += xp;
            }
            for (int f = 0; f < w.length; f++) ap[f] += lambda * p[f];
            double alpha = rr / dot(p, ap);
            for (int f = 0; f < w.length; f++) {
                w[f] += alpha * p[f];
                r[f] -= alpha * ap[f];
            }
            double next = dot(r, r);
            for (int f = 0; f < w.length; f++) p[f] = r[f] + next / rr * p[f];
            rr = next;
        }
        double meanPrice = items.subList(0, train).stream().mapToDouble(Item::price).average().orElseThrow();
        double modelError = 0, meanError = 0;
        for (int i = train; i < items.size(); i++) {
            double truth = items.get(i).price();
            modelError += Math.abs(Math.exp(predict(docs[i], w, bias)) - truth);
            meanError += Math.abs(meanPrice - truth);
        }
        int held = items.size() - train;
        modelError /= held;
        meanError /= held;
        assertTrue(modelError < 0.5 * meanError, "model $" + modelError + " vs mean $" + meanError);
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private static double predict(int[] doc, double[] w, double bias) {
        double s = bias;
        for (int f : doc) s += w[f];
        return s;
    }
}
