package dev.pricer.train.data;

import dev.pricer.core.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * Completion-only language modelling, as TRL's {@code DataCollatorForCompletionOnlyLM} does it: the text
 * (prompt + completion) is tokenized with BOS, cut to {@code maxSeqLength}, and every label up to and
 * including the first occurrence of the response template's tokens is ignored, so the loss sees only the
 * completion. An example whose template is missing (or was cut off) contributes no labels, as in TRL.
 * Batches are padded on the right to their longest row.
 */
public final class CompletionCollator {

    private final Tokenizer tokenizer;
    private final int[] template;
    private final int maxSeqLength;
    private final int padId;

    public CompletionCollator(Tokenizer tokenizer, String responseTemplate, int maxSeqLength, int padId) {
        this.tokenizer = tokenizer;
        this.template = tokenizer.encode(responseTemplate, false);
        if (template.length == 0) throw new IllegalArgumentException("response template '" + responseTemplate + "' has no tokens");
        this.maxSeqLength = maxSeqLength;
        this.padId = padId;
    }

    public int[] templateTokens() {
        return template.clone();
    }

    public EncodedDataset encode(List<Example> examples) {
        int[][] ids = new int[examples.size()][];
        int total = 0;
        for (int i = 0; i < ids.length; i++) {
            ids[i] = tokenizer.encode(examples.get(i).text(), true);
            total += Math.min(ids[i].length, maxSeqLength);
        }
        int[] tokens = new int[total];
        int[] offsets = new int[ids.length + 1];
        int[] masked = new int[ids.length];
        int truncated = 0;
        int withoutTemplate = 0;
        for (int i = 0; i < ids.length; i++) {
            int n = ids[i].length;
            if (n > maxSeqLength) {
                truncated++;
                n = maxSeqLength;
            }
            System.arraycopy(ids[i], 0, tokens, offsets[i], n);
            offsets[i + 1] = offsets[i] + n;
            int end = templateEnd(tokens, offsets[i], n);
            if (end < 0) {
                withoutTemplate++;
                masked[i] = n;
            } else {
                masked[i] = end;
            }
        }
        return new EncodedDataset(tokens, offsets, masked, truncated, withoutTemplate);
    }

    /** Length of the prefix through the first occurrence of the template, or -1 if it does not occur. */
    private int templateEnd(int[] tokens, int from, int n) {
        outer:
        for (int s = 0; s + template.length <= n; s++) {
            for (int k = 0; k < template.length; k++) {
                if (tokens[from + s + k] != template[k]) continue outer;
            }
            return s + template.length;
        }
        return -1;
    }

    /** The examples at {@code indices} as one right-padded batch. */
    public Batch collate(EncodedDataset data, int[] indices) {
        int rows = indices.length;
        int seqLen = 1;
        for (int i : indices) seqLen = Math.max(seqLen, data.length(i));
        int[] ids = new int[rows * seqLen];
        int[] labels = new int[rows * seqLen];
        int[] lengths = new int[rows];
        Arrays.fill(ids, padId);
        Arrays.fill(labels, Batch.IGNORE);
        int labelTokens = 0;
        for (int r = 0; r < rows; r++) {
            int i = indices[r];
            int n = data.length(i);
            lengths[r] = n;
            System.arraycopy(data.tokens(), data.offsets()[i], ids, r * seqLen, n);
            int start = Math.max(data.masked()[i], 0);
            System.arraycopy(data.tokens(), data.offsets()[i] + start, labels, r * seqLen + start, n - start);
            labelTokens += n - Math.max(start, 1);
        }
        return new Batch(rows, seqLen, ids, labels, lengths, labelTokens);
    }
}
