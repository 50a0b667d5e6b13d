package dev.pricer.data.curate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The course's balancing: items go into buckets by rounded price; a bucket below {@code keepAllFrom} dollars
 * with more than {@code bucketCap} items keeps {@code bucketCap} of them, drawn without replacement with
 * probability proportional to their category's weight (so the over-represented Automotive items thin out
 * first); other buckets keep everything. Then a seeded shuffle and the train/test split.
 * It works on bucket and weight arrays, so a million items cost a few megabytes here.
 */
public final class BalancedSampler {

    private final CurationConfig config;

    public BalancedSampler(CurationConfig config) {
        this.config = config;
    }

    /** Indices of the kept items, in input order. */
    public int[] sample(int[] buckets, double[] weights) {
        if (!config.balance()) {
            int[] all = new int[buckets.length];
            Arrays.setAll(all, i -> i);
            return all;
        }
        int maxBucket = Arrays.stream(buckets).max().orElse(0);
        List<List<Integer>> byBucket = new ArrayList<>(maxBucket + 1);
        for (int b = 0; b <= maxBucket; b++) byBucket.add(new ArrayList<>());
        for (int i = 0; i < buckets.length; i++) byBucket.get(buckets[i]).add(i);
        SplittableRandom random = new SplittableRandom(config.seed());
        boolean[] keep = new boolean[buckets.length];
        for (int b = 0; b <= maxBucket; b++) {
            List<Integer> slot = byBucket.get(b);
            if (b >= config.keepAllFrom() || slot.size() <= config.bucketCap()) {
                for (int i : slot) keep[i] = true;
            } else {
                for (int i : weightedWithoutReplacement(slot, weights, config.bucketCap(), random)) keep[i] = true;
            }
        }
        int[] kept = new int[count(keep)];
        for (int i = 0, k = 0; i < keep.length; i++) if (keep[i]) kept[k++] = i;
        return kept;
    }

    /** Efraimidis-Spirakis: the {@code n} largest keys {@code u^(1/w)} are a weighted sample without replacement. */
    private static int[] weightedWithoutReplacement(List<Integer> slot, double[] weights, int n, SplittableRandom random) {
        record Keyed(int index, double key) {}
        Keyed[] keyed = new Keyed[slot.size()];
        for (int j = 0; j < keyed.length; j++) {
            int i = slot.get(j);
            keyed[j] = new Keyed(i, Math.log(random.nextDouble()) / weights[i]);
        }
        Arrays.sort(keyed, (a, b) -> Double.compare(b.key, a.key));
        int[] out = new int[n];
        for (int j = 0; j < n; j++) out[j] = keyed[j].index;
        return out;
    }

    /** The kept indices in shuffled (or input) order, split into train then test. */
    public Split split(int[] kept) {
        int[] order = kept.clone();
        if (config.shuffle()) {
            SplittableRandom random = new SplittableRandom(config.seed() ^ 0x5DEECE66DL);
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        int test = Math.min(config.testSize(), order.length);
        int train = Math.min(config.trainSize(), order.length - test);
        return new Split(Arrays.copyOfRange(order, 0, train), Arrays.copyOfRange(order, train, train + test));
    }

    private static int count(boolean[] flags) {
        int n = 0;
        for (boolean f : flags) if (f) n++;
        return n;
    }

    /** Item indices of each split, in output order. */
    public record Split(int[] train, int[] test) {}
}
