package dev.pricer.train.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataOrderTest {

    static int[] lengths(int n) {
        int[] l = new int[n];
        for (int i = 0; i < n; i++) l[i] = 10 + (i * 37) % 91;
        return l;
    }

    static int[] flat(int[][] batches) {
        return Arrays.stream(batches).flatMapToInt(Arrays::stream).toArray();
    }

    @Test
    void eachEpochIsASeededPermutationCutIntoBatches() {
        DataOrder order = new DataOrder(lengths(103), 8, 42, false);
        assertEquals(13, order.microBatchesPerEpoch());
        int[][] e0 = order.epoch(0);
        assertEquals(13, e0.length);
        assertEquals(7, e0[12].length, "the last micro-batch is short, not dropped");
        int[] all = flat(e0);
        int[] sorted = all.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 103; i++) assertEquals(i, sorted[i]);

        assertArrayEquals(all, flat(new DataOrder(lengths(103), 8, 42, false).epoch(0)), "same seed, same order");
        assertFalse(Arrays.equals(all, flat(order.epoch(1))), "a new order each epoch");
        assertFalse(Arrays.equals(all, flat(new DataOrder(lengths(103), 8, 43, false).epoch(0))), "another seed, another order");
    }

    @Test
    void groupByLengthSortsMegabatchesAndLeadsWithTheLongest() {
        int[] len = lengths(1000);
        DataOrder order = new DataOrder(len, 4, 7, true);
        int[] all = flat(order.epoch(0));
        assertEquals(Arrays.stream(len).max().getAsInt(), len[all[0]]);
        int[] sorted = all.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < len.length; i++) assertEquals(i, sorted[i]);
        for (int from = 200; from < 1000; from += 200) {
            for (int k = from + 1; k < from + 200; k++) assertTrue(len[all[k - 1]] >= len[all[k]], "megabatch sorted at " + k);
        }
        assertFalse(Arrays.equals(all, flat(order.epoch(1))));
    }
}
