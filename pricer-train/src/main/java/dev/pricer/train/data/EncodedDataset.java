package dev.pricer.train.data;

import dev.pricer.core.model.Batch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Tokenized examples packed in one array: example {@code i} is {@code tokens[offsets[i] .. offsets[i+1])},
 * and its first {@code masked[i]} labels are ignored (the prompt through the response template). Packing
 * keeps hundreds of thousands of examples in a few flat arrays.
 */
public record EncodedDataset(int[] tokens, int[] offsets, int[] masked, int truncated, int withoutTemplate) {

    /**
     * The examples at {@code indices} as one batch padded on the right (with {@code padId}) to its longest row,
     * with the attention mask, labels ignored over the masked prefix and the padding.
     */
    public Batch batch(int[] indices, int padId) {
        int rows = indices.length;
        int seqLen = 1;
        for (int i : indices) seqLen = Math.max(seqLen, length(i));
        int[] ids = new int[rows * seqLen];
        int[] labels = new int[rows * seqLen];
        int[] mask = new int[rows * seqLen];
        Arrays.fill(ids, padId);
        Arrays.fill(labels, Batch.IGNORE);
        for (int r = 0; r < rows; r++) {
            int i = indices[r];
            int n = length(i);
            int start = masked[i];
            System.arraycopy(tokens, offsets[i], ids, r * seqLen, n);
            System.arraycopy(tokens, offsets[i] + start, labels, r * seqLen + start, n - start);
            Arrays.fill(mask, r * seqLen, r * seqLen + n, 1);
        }
        return new Batch(rows, seqLen, ids, labels, mask);
    }

    public int size() {
        return masked.length;
    }

    public int length(int i) {
        return offsets[i + 1] - offsets[i];
    }

    public int[] lengths() {
        int[] out = new int[size()];
        for (int i = 0; i < out.length; i++) out[i] = length(i);
        return out;
    }

    /** The examples at {@code indices}, in that order, as a new dataset (used to split off validation). */
    public EncodedDataset select(int[] indices) {
        int total = 0;
        for (int i : indices) total += length(i);
        int[] t = new int[total];
        int[] o = new int[indices.length + 1];
        int[] m = new int[indices.length];
        for (int k = 0; k < indices.length; k++) {
            int i = indices[k];
            System.arraycopy(tokens, offsets[i], t, o[k], length(i));
            o[k + 1] = o[k] + length(i);
            m[k] = masked[i];
        }
        return new EncodedDataset(t, o, m, 0, 0);
    }

    /** A short hash of the tokens and masks: equal data, equal fingerprint. */
    public String fingerprint() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (int[] part : new int[][]{tokens, offsets, masked}) {
                for (int v : part) {
                    if (!buf.hasRemaining()) {
                        sha.update(buf.flip());
                        buf.clear();
                    }
                    buf.putInt(v);
                }
            }
            sha.update(buf.flip());
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Splits off {@code percent} of the examples, chosen by a seeded shuffle, as validation. */
    public Split split(double percent, long seed) {
        int n = size();
        int held = (int) Math.ceil(n * percent / 100.0);
        if (held == 0) return new Split(this, null);
        if (held >= n) throw new IllegalArgumentException("validation_split_percentage " + percent + " leaves no training examples out of " + n);
        int[] perm = DataOrder.permutation(n, seed);
        int[] val = Arrays.copyOfRange(perm, 0, held);
        int[] tr = Arrays.copyOfRange(perm, held, n);
        Arrays.sort(val);
        Arrays.sort(tr);
        return new Split(select(tr), select(val));
    }

    /** Training examples and validation examples (null when none were held out). */
    public record Split(EncodedDataset train, EncodedDataset validation) {
    }
}
