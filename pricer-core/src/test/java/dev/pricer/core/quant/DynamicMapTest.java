package dev.pricer.core.quant;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class DynamicMapTest {

    /**
     * {@code dynamic-map-bitsandbytes.txt} is {@code bitsandbytes.functional.create_dynamic_map()} as printed by
     * a public benchmark that embeds it (HeCBench-style Fortran port of kQuantize); the numpy generator
     * reproduces it too.
     */
    @Test
    void matchesThePrintedBitsandbytesMapBitForBit() throws IOException {
        float[] printed;
        try (InputStream in = getClass().getResourceAsStream("/quant/dynamic-map-bitsandbytes.txt")) {
            printed = parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        assertEquals(256, printed.length);
        assertArrayEquals(printed, DynamicMap.signed());
    }

    @Test
    void isSortedSymmetricWithZeroAndOne() {
        float[] map = DynamicMap.signed();
        float[] sorted = map.clone();
        Arrays.sort(sorted);
        assertArrayEquals(sorted, map);
        assertEquals(0f, map[127]);
        assertEquals(1f, map[255]);
        for (int i = 0; i < 127; i++) assertEquals(-map[254 - i], map[i]);
    }

    @Test
    void encodeFindsExactValuesAndRoundsAtMidpoints() {
        float[] map = DynamicMap.signed();
        for (int i = 0; i < 256; i++) {
            assertEquals(i, DynamicMap.encode(map, map[i]), "value " + map[i]);
        }
        assertEquals(255, DynamicMap.encode(map, 1f));
        assertEquals(0, DynamicMap.encode(map, -1f));
        float mid = (map[200] + map[201]) * 0.5f;
        assertEquals(200, DynamicMap.encode(map, mid));
        assertEquals(201, DynamicMap.encode(map, Math.nextUp(mid)));
    }

    private static float[] parse(String text) {
        List<String> lines = text.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        float[] out = new float[lines.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) Double.parseDouble(lines.get(i));
        return out;
    }
}
