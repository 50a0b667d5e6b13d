package dev.pricer.core.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchTest {

    @Test
    void rightPaddingBuildsMaskLengthsAndIgnoredLabels() {
        Batch b = Batch.rightPadded(new int[][]{{1, 5, 6}, {1, 7}}, new int[][]{{-100, 5, 6}, {-100, 7}});
        assertEquals(3, b.seqLen());
        assertArrayEquals(new int[]{1, 5, 6, 1, 7, 0}, b.inputIds());
        assertArrayEquals(new int[]{1, 1, 1, 1, 1, 0}, b.attentionMask());
        assertArrayEquals(new int[]{-100, 5, 6, -100, 7, -100}, b.labels());
        assertArrayEquals(new int[]{3, 2}, b.validLengths());
        assertEquals(3, b.labelTokens());
    }

    @Test
    void leftPaddingAndWrongSizesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Batch(1, 3, new int[]{0, 1, 2}, null, new int[]{0, 1, 1}));
        assertTrue(e.getMessage().contains("right-padded") || e.getMessage().contains("no tokens"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Batch(1, 3, new int[]{0, 1, 2}, null, new int[]{1, 0, 1}));
        assertTrue(e.getMessage().contains("right-padded"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Batch(2, 3, new int[]{0, 1, 2}, null, null));
        assertTrue(e.getMessage().contains("input_ids"), e.getMessage());
    }
}
