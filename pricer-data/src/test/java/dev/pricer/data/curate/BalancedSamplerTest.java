package dev.pricer.data.curate;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BalancedSamplerTest {

    private static CurationConfig config(int cap, int keepAllFrom, long seed, int train, int test) {
        return new CurationConfig(0.5, 999.49, CurationConfig.TEXT_FIELDS, true, CurationConfig.COURSE_BOILERPLATE, 7,
                300, 1120, true, 150, 160, true, cap, keepAllFrom, Map.of("Automotive", 1.0), 5, seed, true, train, test);
    }

    @Test
    void fullBucketsAreCappedAndExpensiveBucketsKeptWhole() {
        int[] buckets = new int[300];
        Arrays.fill(buckets, 0, 100, 10);   // over the cap
        Arrays.fill(buckets, 100, 120, 20); // under the cap
        Arrays.fill(buckets, 120, 300, 250); // over the cap but above keep-all
        double[] weights = new double[300];
        Arrays.fill(weights, 5);
        int[] kept = new BalancedSampler(config(30, 240, 1, 0, 0)).sample(buckets, weights);
        assertEquals(30, Arrays.stream(kept).filter(i -> i < 100).count());
        assertEquals(20, Arrays.stream(kept).filter(i -> i >= 100 && i < 120).count());
        assertEquals(180, Arrays.stream(kept).filter(i -> i >= 120).count());
    }

    @Test
    void lightCategoriesThinOutFirst() {
        int n = 2000;
        int[] buckets = new int[n];
        double[] weights = new double[n];
        for (int i = 0; i < n; i++) weights[i] = i < n / 2 ? 1 : 5; // first half Automotive
        int[] kept = new BalancedSampler(config(500, 240, 7, 0, 0)).sample(buckets, weights);
        long automotive = Arrays.stream(kept).filter(i -> i < n / 2).count();
        assertEquals(500, kept.length);
        assertTrue(automotive < 150, "automotive kept " + automotive);
    }

    @Test
    void splitIsSeededShuffledAndDisjoint() {
        int[] kept = new int[100];
        Arrays.setAll(kept, i -> i);
        var a = new BalancedSampler(config(10, 240, 42, 80, 15)).split(kept);
        var b = new BalancedSampler(config(10, 240, 42, 80, 15)).split(kept);
        var c = new BalancedSampler(config(10, 240, 43, 80, 15)).split(kept);
        assertArrayEquals(a.train(), b.train());
        assertArrayEquals(a.test(), b.test());
        assertNotEquals(Arrays.toString(a.train()), Arrays.toString(c.train()));
        assertEquals(80, a.train().length);
        assertEquals(15, a.test().length);
        Set<Integer> seen = new HashSet<>();
        for (int i : a.train()) seen.add(i);
        for (int i : a.test()) assertTrue(seen.add(i));
    }

    @Test
    void smallDatasetsFillTestFirstThenTrain() {
        int[] kept = new int[50];
        Arrays.setAll(kept, i -> i);
        var s = new BalancedSampler(config(10, 240, 42, 400_000, 2_000)).split(kept);
        assertEquals(0, s.train().length);
        assertEquals(50, s.test().length);
        var t = new BalancedSampler(config(10, 240, 42, 400_000, 10)).split(kept);
        assertEquals(40, t.train().length);
        assertEquals(10, t.test().length);
    }
}
