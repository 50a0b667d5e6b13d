package dev.pricer.core;

import dev.pricer.core.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class TokenizerTest {

    static Path llamaTokenizer() throws URISyntaxException {
        return Path.of(TokenizerTest.class.getResource("/tokenizers/llama-3.1-tokenizer.json.gz").toURI());
    }

    @Test
    void everyNumberBelowAThousandIsOneToken() throws Exception {
        try (Tokenizer tok = Tokenizer.load(llamaTokenizer())) {
            for (int n = 0; n < 1000; n++) {
                int[] ids = tok.encode(String.valueOf(n), false);
                assertEquals(1, ids.length, "number " + n);
                assertEquals(String.valueOf(n), tok.decode(ids));
            }
        }
    }

    @Test
    void specialTokensOnlyWhenAsked() throws Exception {
        try (Tokenizer tok = Tokenizer.load(llamaTokenizer())) {
            int[] plain = tok.encode("Price is $", false);
            int[] withBos = tok.encode("Price is $", true);
            assertEquals(128000, withBos[0]);
            assertEquals(plain.length + 1, withBos.length);
            assertArrayEquals(plain, java.util.Arrays.copyOfRange(withBos, 1, withBos.length));
        }
    }
}
