package dev.pricer.eval.baseline;

import dev.pricer.data.CuratedItem;
import dev.pricer.data.curate.CurationConfig;
import dev.pricer.data.curate.TextBuilder;
import dev.pricer.data.synth.CatalogGenerator;
import dev.pricer.eval.predict.Estimator;
import dev.pricer.eval.predict.Guess;
import dev.pricer.eval.tester.Report;
import dev.pricer.eval.tester.Tester;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BaselinesTest {

    /** The synthetic catalog, whose prices follow from its words, as curated items. */
    private static List<CuratedItem> catalog(long seed, int count) {
        TextBuilder text = new TextBuilder(CurationConfig.course());
        return new CatalogGenerator(seed).items(count).stream()
                .map(i -> new CuratedItem(i.title(), i.category(), i.price(), text.text(i.title(), text.contents(i)), 0)).toList();
    }

    @Test
    void baselinesRankAsExpectedOnALearnableCatalog() {
        List<CuratedItem> train = catalog(3, 1500);
        Tester tester = new Tester(catalog(4, 250), 250);
        List<Report> reports = Baselines.all(train, 42).stream().map(tester::run).toList();
        Report random = reports.get(0), constant = reports.get(1), features = reports.get(2), words = reports.get(3), boosted = reports.get(4);
        assertTrue(words.averageError() < constant.averageError() * 0.8, words + " vs " + constant);
        assertTrue(boosted.averageError() < constant.averageError() * 0.8, boosted + " vs " + constant);
        assertTrue(constant.averageError() < random.averageError() || constant.rmsle() < random.rmsle());
        assertTrue(features.averageError() <= constant.averageError() * 1.05, "least squares fits at least the mean on similar data");
        reports.forEach(r -> assertEquals(0, r.misses()));
    }

    @Test
    void constantIsTheTrainingMeanAndRandomIsSeededWholeDollars() {
        List<CuratedItem> train = catalog(5, 20);
        double mean = train.stream().mapToDouble(CuratedItem::price).average().orElseThrow();
        assertEquals(mean, Baselines.constant(train).estimate(train).getFirst().price(), 1e-9);
        Estimator random = Baselines.random(7);
        List<Guess> a = random.estimate(train), b = random.estimate(train);
        assertEquals(a, b);
        assertTrue(a.stream().allMatch(g -> g.price() >= 1 && g.price() <= 999 && g.price() == Math.rint(g.price())));
    }

    @Test
    void textFeaturesCountLengthWordsAndNumbers() {
        double[] f = TextFeatureRegression.features("Desk 120 cm, 2 drawers");
        assertEquals(22, f[0]);
        assertEquals(5, f[1]);
        assertEquals(2, f[2]);
        assertEquals(Math.log1p(120), f[3], 1e-12);
        assertEquals(List.of("oak", "desk", "drawers"), BagOfWords.words("The oak desk, with drawers"));
    }
}
