package dev.pricer.train.data;

/**
 * Tokenized examples packed in one array: example {@code i} is {@code tokens[offsets[i] .. offsets[i+1])},
 * and its first {@code masked[i]} labels are ignored (the prompt through the response template). Packing
 * keeps hundreds of thousands of examples in a few flat arrays.
 */
public record EncodedDataset(int[] tokens, int[] offsets, int[] masked, int truncated, int withoutTemplate) {

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
}
