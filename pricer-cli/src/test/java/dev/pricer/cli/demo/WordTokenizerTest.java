package dev.pricer.cli.demo;

import dev.pricer.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class WordTokenizerTest {

    @Test
    void roundTripsTextAndKeepsAPriceOneToken(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokenizer.json");
        WordTokenizer.write(List.of("Oak desk, 120 cm wide.\n\nPrice is $349.00", "Steel desk"), 1, file);
        try (Tokenizer t = Tokenizer.load(file)) {
            String text = "Oak desk, 120 cm wide.\n\nPrice is $349.00";
            int[] ids = t.encode(text, true);
            assertEquals(0, ids[0], "BOS first");
            assertEquals(text, t.decodeSkippingSpecial(ids));
            int[] template = t.encode("Price is $", false);
            int[] price = t.encode("Price is $123.00", false);
            assertEquals(template.length + 3, price.length, "123, '.' and '00' follow the template");
            assertEquals("123", t.decode(new int[]{price[template.length]}));
            assertArrayEquals(new int[]{0}, t.encode(WordTokenizer.BOS, false), "special tokens are read in text");
            assertEquals(2, t.encode(" zebra", false)[0], "an unseen word is the unknown token");
        }
    }
}
