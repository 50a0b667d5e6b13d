package dev.pricer.core.model;

import java.util.Arrays;

/**
 * A micro-batch of {@code batchSize} sequences of {@code seqLen} tokens, row-major. {@code labels} uses -100 for
 * positions without loss (may be null when no loss is wanted); {@code attentionMask} is 1 for real tokens and 0
 * for right padding (null means no padding). Labels are not shifted: as in HF, position t's logits predict
 * {@code labels[t + 1]}.
 */
public record Batch(int batchSize, int seqLen, int[] inputIds, int[] labels, int[] attentionMask) {

    public static final int IGNORE = -100;

    public Batch {
        if (batchSize <= 0 || seqLen <= 0) throw new IllegalArgumentException("empty batch " + batchSize + "×" + seqLen);
        check("input_ids", inputIds, batchSize, seqLen);
        if (labels != null) check("labels", labels, batchSize, seqLen);
        if (attentionMask != null) {
            check("attention_mask", attentionMask, batchSize, seqLen);
            for (int b = 0; b < batchSize; b++) {
                boolean padding = false;
                for (int t = 0; t < seqLen; t++) {
                    int m = attentionMask[b * seqLen + t];
                    if (m != 0 && m != 1) throw new IllegalArgumentException("attention_mask[" + b + "][" + t + "] is " + m + ", not 0 or 1");
                    if (m == 0) padding = true;
                    else if (padding) throw new IllegalArgumentException("attention_mask row " + b + " is not right-padded (a 1 follows a 0 at " + t + ")");
                }
                if (attentionMask[b * seqLen] == 0) throw new IllegalArgumentException("attention_mask row " + b + " has no tokens");
            }
        }
    }

    private static void check(String name, int[] values, int batchSize, int seqLen) {
        if (values.length != batchSize * seqLen) {
            throw new IllegalArgumentException(name + " has " + values.length + " values, expected " + batchSize + "×" + seqLen);
        }
    }

    /** A right-padded batch from sequences of any lengths: pad id 0, mask 0 over padding, labels -100 there. */
    public static Batch rightPadded(int[][] sequences, int[][] labels) {
        int seqLen = Arrays.stream(sequences).mapToInt(s -> s.length).max().orElseThrow();
        int n = sequences.length;
        int[] ids = new int[n * seqLen], mask = new int[n * seqLen], lab = labels == null ? null : new int[n * seqLen];
        if (lab != null) Arrays.fill(lab, IGNORE);
        for (int b = 0; b < n; b++) {
            System.arraycopy(sequences[b], 0, ids, b * seqLen, sequences[b].length);
            Arrays.fill(mask, b * seqLen, b * seqLen + sequences[b].length, 1);
            if (lab != null) System.arraycopy(labels[b], 0, lab, b * seqLen, labels[b].length);
        }
        return new Batch(n, seqLen, ids, lab, mask);
    }

    /** Tokens per sequence before the padding. */
    public int[] validLengths() {
        int[] lengths = new int[batchSize];
        for (int b = 0; b < batchSize; b++) {
            int len = seqLen;
            if (attentionMask != null) {
                len = 0;
                while (len < seqLen && attentionMask[b * seqLen + len] == 1) len++;
            }
            lengths[b] = len;
        }
        return lengths;
    }

    /** Label tokens after the causal shift: the count the loss is averaged over. */
    public long labelTokens() {
        if (labels == null) return 0;
        long n = 0;
        for (int b = 0; b < batchSize; b++) for (int t = 1; t < seqLen; t++) if (labels[b * seqLen + t] != IGNORE) n++;
        return n;
    }
}
