package dev.pricer.core.backend;

/**
 * The geometry of one causal attention call. Queries are rows {@code b * queryLen + i} of a
 * {@code [batch * queryLen, numHeads * headDim]} buffer; keys and values are rows {@code b * keyStride + j}
 * of {@code [batch * keyStride, numKvHeads * headDim]} buffers (in training {@code keyStride == queryLen};
 * with a KV cache it is the cache's capacity). Query {@code i} sits at position {@code pastLen + i} and sees
 * keys {@code j <= pastLen + i} that are also inside its sequence's valid length (right padding).
 * Attention probabilities, when saved, are {@code [batch, numHeads, queryLen, keyStride]}.
 */
public record AttentionShape(int batch, int queryLen, int keyStride, int pastLen, int numHeads, int numKvHeads, int headDim) {

    public AttentionShape {
        if (numHeads % numKvHeads != 0) throw new IllegalArgumentException("heads " + numHeads + " not a multiple of kv heads " + numKvHeads);
        if (pastLen + queryLen > keyStride) throw new IllegalArgumentException("past " + pastLen + " + query " + queryLen + " exceeds key capacity " + keyStride);
    }

    public long probabilityCount() {
        return (long) batch * numHeads * queryLen * keyStride;
    }
}
