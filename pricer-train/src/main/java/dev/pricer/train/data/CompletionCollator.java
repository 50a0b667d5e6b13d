package dev.pricer.train.data;


import dev.pricer.core.tokenizer.Tokenizer;

import java.util.List;

/**
 * Completion-only language modelling, as TRL's {@code DataCollatorForCompletionOnlyLM} does it: the text
 * (prompt + completion) is tokenized with BOS, cut to {@code maxSeqLength}, and every label up to and
 * including the first occurrence of the response template's tokens is ignored, so the loss sees only the
 * completion. An example whose template is missing (or was cut off) contributes no labels, as in TRL.
 * {@link EncodedDataset#batch} then pads batches on the right.
 */
public final class CompletionCollator {

    private final Tokenizer tokenizer;
    private final int[] template;
    private final int maxSeqLength;

    public CompletionCollator(Tokenizer tokenizer, String responseTemplate, int maxSeqLength) {
        this.tokenizer = tokenizer;
        this.template = tokenizer.encode(responseTemplate, false);
        if (template.length == 0) throw new IllegalArgumentException("response template '" + responseTemplate + "' has no tokens");
        this.maxSeqLength = maxSeqLength;
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
}
