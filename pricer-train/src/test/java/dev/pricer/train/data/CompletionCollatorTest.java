package dev.pricer.train.data;

import dev.pricer.core.model.Batch;

import dev.pricer.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class CompletionCollatorTest {

    static final int PAD = 128001;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        tokenizer = Tokenizer.load(Path.of(CompletionCollatorTest.class.getResource("/tokenizers/llama-3.1-tokenizer.json.gz").toURI()));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    static Example item(String text, int price) {
        return new Example("How much does this cost to the nearest dollar?\n\n" + text + "\n\nPrice is $", price + ".00");
    }

    @Test
    void labelsOnlyTheCompletionAfterTheTemplate() {
        CompletionCollator c = new CompletionCollator(tokenizer, "Price is $", 1024);
        Example e = item("A stainless steel kettle, 1.7 litres", 35);
        EncodedDataset d = c.encode(List.of(e));
        int[] full = tokenizer.encode(e.text(), true);
        int[] completion = tokenizer.encode(e.completion(), false);
        assertEquals(128000, full[0], "BOS first");
        assertArrayEquals(full, Arrays.copyOfRange(d.tokens(), 0, d.length(0)));
        assertEquals(full.length - completion.length, d.masked()[0], "masked through 'Price is $'");

        Batch b = d.batch(new int[]{0}, PAD);
        for (int t = 0; t < b.seqLen(); t++) {
            int want = t < d.masked()[0] ? Batch.IGNORE : full[t];
            assertEquals(want, b.labels()[t], "label " + t);
        }
        assertEquals(completion.length, (int) b.labelTokens());
        assertEquals("35.00", tokenizer.decode(Arrays.copyOfRange(full, d.masked()[0], full.length)));
    }

    @Test
    void padsOnTheRightToTheLongestRowAndIgnoresPadding() {
        CompletionCollator c = new CompletionCollator(tokenizer, "Price is $", 1024);
        EncodedDataset d = c.encode(List.of(item("Short", 5), item("A much longer description of a cordless drill with two batteries", 129)));
        Batch b = d.batch(new int[]{0, 1}, PAD);
        assertEquals(2, b.batchSize());
        assertEquals(d.length(1), b.seqLen());
        assertArrayEquals(new int[]{d.length(0), d.length(1)}, b.validLengths());
        for (int t = d.length(0); t < b.seqLen(); t++) {
            assertEquals(PAD, b.inputIds()[t]);
            assertEquals(Batch.IGNORE, b.labels()[t]);
        }
                assertEquals(d.length(0) - d.masked()[0] + d.length(1) - d.masked()[1], (int) b.labelTokens());
        for (int t = 0; t < b.seqLen(); t++) assertEquals(t < d.length(0) ? 1 : 0, b.attentionMask()[t]);
    }

    @Test
    void truncatesAndCountsCutExamplesAndThoseThatLostTheirTemplate() {
        Example longOne = item("word ".repeat(40), 12);
        int fullLength = tokenizer.encode(longOne.text(), true).length;
        CompletionCollator c = new CompletionCollator(tokenizer, "Price is $", fullLength - 1);
        EncodedDataset d = c.encode(List.of(longOne, item("tiny", 3)));
        assertEquals(1, d.truncated());
        assertEquals(fullLength - 1, d.length(0));
        assertEquals(0, d.withoutTemplate(), "cutting the '.00' keeps the template");

        CompletionCollator tight = new CompletionCollator(tokenizer, "Price is $", 20);
        EncodedDataset cut = tight.encode(List.of(longOne));
        assertEquals(1, cut.truncated());
        assertEquals(1, cut.withoutTemplate());
        assertEquals(0L, cut.batch(new int[]{0}, PAD).labelTokens(), "no template, no labels (as TRL)");
    }

    @Test
    void selectKeepsTokensAndMasks() {
        CompletionCollator c = new CompletionCollator(tokenizer, "Price is $", 1024);
        EncodedDataset d = c.encode(List.of(item("a", 1), item("bb", 2), item("ccc", 3)));
        EncodedDataset s = d.select(new int[]{2, 0});
        assertEquals(2, s.size());
        assertArrayEquals(Arrays.copyOfRange(d.tokens(), d.offsets()[2], d.offsets()[3]), Arrays.copyOfRange(s.tokens(), 0, s.length(0)));
        assertEquals(d.masked()[0], s.masked()[1]);
    }
}
