package dev.pricer.train.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The order in which examples are visited: a fresh seeded permutation per epoch (HF's seedable sampler uses
 * {@code seed + epoch} the same way), cut into micro-batches, the last one possibly short. With
 * {@code groupByLength} it follows HF's {@code LengthGroupedSampler}: the permutation is cut into
 * mega-batches of 50 micro-batches, each sorted longest first, and the longest example overall leads, so
 * that running out of memory happens at once rather than hours in. The order is a pure function of
 * (seed, epoch), which is what makes resuming exact: a checkpoint only records (epoch, micro-batch).
 */
public final class DataOrder {

    private static final int MEGABATCH_MULTIPLIER = 50;

    private final int[] lengths;
    private final int batchSize;
    private final long seed;
    private final boolean groupByLength;

    public DataOrder(int[] lengths, int batchSize, long seed, boolean groupByLength) {
        if (lengths.length == 0) throw new IllegalArgumentException("no training examples");
        this.lengths = lengths.clone();
        this.batchSize = batchSize;
        this.seed = seed;
        this.groupByLength = groupByLength;
    }

    public int microBatchesPerEpoch() {
        return Math.ceilDiv(lengths.length, batchSize);
    }

    /** Example indices of every micro-batch of {@code epoch}, in order. */
    public int[][] epoch(int epoch) {
        int[] perm = permutation(lengths.length, seed + epoch);
        if (groupByLength) groupByLength(perm);
        int[][] batches = new int[microBatchesPerEpoch()][];
        for (int b = 0; b < batches.length; b++) {
            batches[b] = Arrays.copyOfRange(perm, b * batchSize, Math.min(perm.length, (b + 1) * batchSize));
        }
        return batches;
    }

    static int[] permutation(int n, long seed) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    private void groupByLength(int[] perm) {
        int mega = MEGABATCH_MULTIPLIER * batchSize;
        int longestAt = 0;
        for (int from = 0; from < perm.length; from += mega) {
            int to = Math.min(perm.length, from + mega);
            Integer[] chunk = new Integer[to - from];
            for (int k = 0; k < chunk.length; k++) chunk[k] = perm[from + k];
            Arrays.sort(chunk, (a, b) -> Integer.compare(lengths[b], lengths[a]));
            for (int k = 0; k < chunk.length; k++) perm[from + k] = chunk[k];
            if (lengths[perm[from]] > lengths[perm[longestAt]]) longestAt = from;
        }
        int t = perm[0];
        perm[0] = perm[longestAt];
        perm[longestAt] = t;
    }
}
