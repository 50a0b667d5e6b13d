package dev.pricer.data.curate;

import dev.pricer.core.tokenizer.Tokenizer;
import dev.pricer.data.Item;
import dev.pricer.data.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CuratorTest {

    static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        tokenizer = TestData.llama();
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    private static Item item(String description, double price) {
        return new Item("Acme Kettle", "Appliances", List.of(description), List.of(), Map.of(), price);
    }

    @Test
    void priceRangeIsInclusiveAtTheCoursesBounds() {
        Curator c = new Curator(CurationConfig.course(), tokenizer);
        String text = TestData.words(200);
        assertEquals(Curator.Drop.PRICE_OUT_OF_RANGE, c.curate(item(text, 0.49)).drop());
        assertEquals(Curator.Drop.PRICE_OUT_OF_RANGE, c.curate(item(text, 999.5)).drop());
        assertNull(c.curate(item(text, 0.5)).drop());
        assertNull(c.curate(item(text, 999.49)).drop());
    }

    @Test
    void contentsMustBeLongerThanTheMinimumCharacters() {
        Curator c = new Curator(CurationConfig.course(), tokenizer);
        // Contents are the description plus its newline: 299 + 1 = 300 characters is not enough.
        assertEquals(Curator.Drop.TOO_FEW_CHARS, c.curate(item("x".repeat(299), 10)).drop());
    }

    @Test
    void textIsCutAt160TokensAndShortTextsAreDropped() {
        Curator c = new Curator(CurationConfig.course(), tokenizer);
        var kept = c.curate(item(TestData.words(400), 10)).item();
        assertEquals(160, kept.tokens());
        assertEquals(160, tokenizer.encode(kept.text(), false).length);
        assertTrue(kept.text().startsWith("Acme Kettle\nworda wordb"));
        // 60 words of about 2 tokens each and the title: between 300 characters and 150 tokens.
        Curator.Outcome few = c.curate(item(TestData.words(60), 10));
        assertEquals(Curator.Drop.TOO_FEW_TOKENS, few.drop());
    }

    @Test
    void tokenStepsCanBeTurnedOffAndThenNeedNoTokenizer() {
        CurationConfig course = CurationConfig.course();
        CurationConfig off = new CurationConfig(course.minPrice(), course.maxPrice(), course.textFields(), true,
                course.boilerplate(), 7, 300, 1120, false, 150, 160, true, 1200, 240, Map.of(), 5, 42, true, 10, 10);
        var kept = new Curator(off, null).curate(item(TestData.words(60), 10)).item();
        assertEquals(0, kept.tokens());
        assertThrows(IllegalArgumentException.class, () -> new Curator(course, null));
    }

    @Test
    void thePriceIsOneTokenRightAfterTheTestPrompt() {
        var kept = new Curator(CurationConfig.course(), tokenizer).curate(item(TestData.words(200), 437.2)).item();
        int[] test = tokenizer.encode(kept.testPrompt(), false);
        int[] full = tokenizer.encode(kept.prompt(), false);
        assertEquals(java.util.Arrays.toString(test), java.util.Arrays.toString(java.util.Arrays.copyOf(full, test.length)));
        assertEquals("437", tokenizer.decode(new int[]{full[test.length]}));
        assertEquals(".00", tokenizer.decode(java.util.Arrays.copyOfRange(full, test.length + 1, full.length)));
    }

    @Test
    void promptOfACuratedItemEndsWithTheRoundedPrice() {
        var kept = new Curator(CurationConfig.course(), tokenizer).curate(item(TestData.words(200), 18.5)).item();
        assertTrue(kept.prompt().endsWith("\n\nPrice is $18.00"), kept.prompt());
        assertTrue(kept.prompt().startsWith("How much does this cost to the nearest dollar?\n\nAcme Kettle\n"));
    }
}
