package dev.pricer.eval.tester;

import dev.pricer.data.CuratedItem;
import dev.pricer.data.read.Splits;
import dev.pricer.eval.Fixtures;
import dev.pricer.eval.predict.Estimator;
import dev.pricer.eval.predict.Guess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TesterTest {

    private static Estimator fixed(String name, Guess... guesses) {
        return new Estimator() {
            public String name() {
                return name;
            }

            public List<Guess> estimate(List<CuratedItem> items) {
                return List.of(guesses).subList(0, items.size());
            }
        };
    }

    @Test
    void coloursFollowTheCoursesThresholds() {
        assertEquals(Colour.GREEN, Colour.of(39.99, 10));     // under $40
        assertEquals(Colour.GREEN, Colour.of(199, 1000));     // under 20%
        assertEquals(Colour.ORANGE, Colour.of(79, 100));      // under $80
        assertEquals(Colour.ORANGE, Colour.of(399, 1000));    // under 40%
        assertEquals(Colour.RED, Colour.of(80, 100));
        assertEquals(Colour.RED, Colour.of(400, 1000));
    }

    @Test
    void reportHasAverageErrorRmsleHitsAndMisses() {
        List<CuratedItem> items = List.of(Fixtures.item("a", 100), Fixtures.item("b", 1000), Fixtures.item("c", 50));
        List<Integer> told = new ArrayList<>();
        Report r = new Tester(items, 250).run(fixed("m", Guess.of(110), Guess.of(500), Guess.MISS), told::add);
        assertEquals(List.of(3), told, "an estimator without batches tells its end");
        assertEquals((10 + 500 + 50) / 3.0, r.averageError(), 1e-9);
        double sle = Math.pow(Math.log(111) - Math.log(101), 2) + Math.pow(Math.log(501) - Math.log(1001), 2)
                + Math.pow(Math.log(1) - Math.log(51), 2);
        assertEquals(Math.sqrt(sle / 3), r.rmsle(), 1e-12);
        assertEquals(100.0 / 3, r.hits(), 1e-9);
        assertEquals(1, r.misses());
        assertEquals(List.of(Colour.GREEN, Colour.RED, Colour.ORANGE), r.items().stream().map(Scored::colour).toList());
    }

    @Test
    void theTesterTakesTheFirstItemsOfTheSplitAndChecksTheGuessCount() {
        List<CuratedItem> items = List.of(Fixtures.item("a", 1), Fixtures.item("b", 2), Fixtures.item("c", 3));
        Tester tester = new Tester(items, 2);
        assertEquals(2, tester.items().size());
        var e = assertThrows(IllegalStateException.class, () -> tester.run(new Estimator() {
            public String name() {
                return "short";
            }

            public List<Guess> estimate(List<CuratedItem> i) {
                return List.of(Guess.of(1));
            }
        }));
        assertTrue(e.getMessage().contains("1 guesses for 2 items"));
        assertThrows(IllegalArgumentException.class, () -> new Tester(List.of(), 250));
    }

    @Test
    void tablesColourEachRowAndRankEstimators() {
        List<CuratedItem> items = List.of(Fixtures.item("kettle", 100), Fixtures.item("desk", 1000));
        Tester tester = new Tester(items, 250);
        Report good = tester.run(fixed("good", Guess.of(100), Guess.of(1000)));
        Report bad = tester.run(fixed("bad", Guess.of(1), Guess.MISS));
        String rows = Tables.items(bad, true);
        assertTrue(rows.contains(Colour.RED.ansi()) && rows.contains("(not a number)"), rows);
        assertTrue(Tables.items(bad, false).lines().skip(1).allMatch(l -> l.endsWith("red")));
        String table = Tables.comparison(List.of(bad, good));
        assertTrue(table.indexOf("good") < table.indexOf("bad"), table);
        assertEquals(1, Tables.summary(bad).get("misses"));
        assertEquals(2, ((List<?>) Tables.detailed(good).get("results")).size());
    }

    @Test
    void splitsReadACuratedTestFile(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("test.jsonl"), """
                {"title":"Kettle","category":"Home","price":25.0,"text":"Kettle\\nBlue steel, 1.7 l","tokens":9,"prompt":"x"}
                {"title":"Desk","category":"Home","price":1234.0,"text":"Desk\\nOak","tokens":3,"prompt":"y"}
                """);
        List<CuratedItem> items = Splits.read(dir, "test", 250);
        assertEquals(2, items.size());
        assertEquals("Kettle\nBlue steel, 1.7 l", items.getFirst().text());
        assertEquals(1234.0, items.get(1).price());
        assertEquals(1, Splits.read(dir, "test", 1).size());
        assertThrows(RuntimeException.class, () -> Splits.read(dir, "train", 10));
    }
}
