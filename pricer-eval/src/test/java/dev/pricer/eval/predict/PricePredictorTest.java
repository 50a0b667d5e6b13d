package dev.pricer.eval.predict;

import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.tokenizer.Tokenizer;
import dev.pricer.data.CuratedItem;
import dev.pricer.eval.Fixtures;
import dev.pricer.eval.checkpoint.PricingModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PricePredictorTest {

    static PricingModel tuned;

    @BeforeAll
    static void train() throws Exception {
        Path adapter = Fixtures.trainedAdapter(Fixtures.ITEMS, 1);
        tuned = PricingModel.open(Fixtures.base(), adapter, new CpuBackend());
    }

    @AfterAll
    static void close() {
        tuned.close();
    }

    @Test
    void theTokenizerSplitsLargePricesIntoSeveralNumberTokens() {
        assertEquals(List.of("123", "4"), pieces("1234"));
        assertEquals(List.of("105", "00", ".", "00"), pieces("10500.00"));
    }

    private static List<String> pieces(String text) {
        Tokenizer t = tuned.tokenizer();
        return java.util.Arrays.stream(t.encode(text, false)).mapToObj(id -> t.decode(new int[]{id})).toList();
    }

    @Test
    void greedyReadsPricesOfOneTwoAndThreeNumberTokens() {
        List<Guess> guesses = tuned.predictor("tuned", Decoding.GREEDY, 3, 8).estimate(Fixtures.ITEMS);
        assertEquals(prices(Fixtures.ITEMS), guesses.stream().map(Guess::price).toList());
        assertTrue(guesses.stream().noneMatch(Guess::miss));
    }

    @Test
    void weightedFollowsAFullWidthGroupIntoTheNextNumberTokens() {
        // With k = 1 the weighted mean is the top token's price: 1234 must read as 1234, not 123; 10500 not as 105.
        List<Guess> guesses = tuned.predictor("tuned", Decoding.WEIGHTED, 1, 8).estimate(Fixtures.ITEMS);
        assertEquals(prices(Fixtures.ITEMS), guesses.stream().map(Guess::price).toList());
    }

    @Test
    void weightedIsTheProbabilityWeightedMeanOfTheNumberTokensInTheTopK() {
        Tokenizer t = tuned.tokenizer();
        for (CuratedItem item : Fixtures.ITEMS) {
            int[] prompt = t.encode(item.testPrompt(), true);
            float[] probs = tuned.model().nextTokenProbabilities(new int[][]{prompt})[0];
            Integer[] order = new Integer[probs.length];
            for (int i = 0; i < order.length; i++) order[i] = i;
            java.util.Arrays.sort(order, (a, b) -> Float.compare(probs[b], probs[a]));
            double sum = 0, weight = 0;
            for (int r = 0; r < 3; r++) {
                String number = t.decode(new int[]{order[r]});
                if (!number.matches("\\d+")) continue;
                if (number.length() == 3) {
                    // A full group: the price goes on in the tokens greedy decoding puts after it.
                    int[] seq = java.util.Arrays.copyOf(prompt, prompt.length + 1);
                    seq[prompt.length] = order[r];
                    int[] out = tuned.model().generateGreedy(seq, 6);
                    String rest = t.decode(java.util.Arrays.copyOfRange(out, seq.length, out.length));
                    number += rest.replaceAll("(?s)\\D.*", "");
                }
                sum += probs[order[r]] * Double.parseDouble(number);
                weight += probs[order[r]];
            }
            Guess got = tuned.predictor("tuned", Decoding.WEIGHTED, 3, 1).estimate(List.of(item)).getFirst();
            if (weight == 0) assertTrue(got.miss());
            else assertEquals(sum / weight, got.price(), 1e-6 * Math.max(1, sum / weight), item.title());
        }
    }

    @Test
    void batchedPredictionsEqualOneAtATime() {
        for (Decoding d : Decoding.values()) {
            List<Guess> batched = tuned.predictor("t", d, 3, 4).estimate(Fixtures.ITEMS);
            List<Integer> told = new ArrayList<>();
            List<Guess> single = tuned.predictor("t", d, 3, 1).estimate(Fixtures.ITEMS, told::add);
            assertEquals(List.of(1, 2, 3, 4), told, "the count done after each batch");
            // Batches of different sizes take different matmul paths, so probabilities differ in their last bits;
            // a weighted guess multiplies those by prices in the hundreds.
            for (int i = 0; i < batched.size(); i++) {
                double want = single.get(i).price();
                assertEquals(want, batched.get(i).price(), 1e-5 * Math.max(1, Math.abs(want)), d.name() + " item " + i);
            }
        }
    }

    @Test
    void anOutputThatIsNotANumberIsAMissWithGuessZero() {
        // The untrained base answers with whatever its random weights prefer: for these prompts, not a number.
        try (PricingModel base = PricingModel.open(Fixtures.base(), null, new CpuBackend())) {
            List<CuratedItem> items = List.of(Fixtures.item("Oak desk with drawers", 1234));
            Guess g = base.predictor("base", Decoding.GREEDY, 3, 2).estimate(items).getFirst();
            int[] prompt = base.tokenizer().encode(items.getFirst().testPrompt(), true);
            int[] out = base.model().generateGreedy(prompt, 7);
            String text = base.tokenizer().decodeSkippingSpecial(java.util.Arrays.copyOfRange(out, prompt.length, out.length));
            assertEquals(PriceText.parse(text).isEmpty(), g.miss(), "output '" + text + "'");
            if (g.miss()) assertEquals(0, g.price());
        }
    }

    @Test
    void emptyTextIsRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> tuned.predictor("t", Decoding.GREEDY, 3, 2).predictTexts(List.of("Lamp", "  "), n -> { }));
        assertTrue(e.getMessage().contains("text 2 is empty"), e.getMessage());
    }

    @Test
    void priceTextReadsTheFirstNumberAsTheCourseDid() {
        assertEquals(1234.0, PriceText.parse("1,234.00 and more").getAsDouble());
        assertEquals(0.5, PriceText.parse("$.5").getAsDouble());
        assertEquals(99.0, PriceText.parse("about $99").getAsDouble());
        assertTrue(PriceText.parse("no idea").isEmpty());
    }

    private static List<Double> prices(List<CuratedItem> items) {
        return items.stream().map(CuratedItem::price).toList();
    }
}
