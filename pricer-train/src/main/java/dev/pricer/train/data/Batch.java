package dev.pricer.train.data;

/**
 * A right-padded micro-batch, row-major {@code [rows, seqLen]}. {@code labels} follow Hugging Face: the
 * token itself where it counts, -100 where it does not (prompt and padding); the model shifts them.
 * {@code lengths} are the real tokens of each row. {@code labelTokens} counts the labels that the
 * shifted loss sees, which is what the loss is normalised by.
 */
public record Batch(int rows, int seqLen, int[] inputIds, int[] labels, int[] lengths, int labelTokens) {

    public static final int IGNORE = -100;

    public Batch {
        if (inputIds.length != rows * seqLen || labels.length != rows * seqLen || lengths.length != rows) {
            throw new IllegalArgumentException("batch arrays do not fit [" + rows + ", " + seqLen + "]");
        }
    }

    /** Labels that count after the causal shift: positions 1.. of each row that are not {@link #IGNORE}. */
    public static int countLabelTokens(int[] labels, int rows, int seqLen) {
        int n = 0;
        for (int r = 0; r < rows; r++) {
            for (int t = 1; t < seqLen; t++) {
                if (labels[r * seqLen + t] != IGNORE) n++;
            }
        }
        return n;
    }

    public int tokens() {
        int n = 0;
        for (int l : lengths) n += l;
        return n;
    }
}
