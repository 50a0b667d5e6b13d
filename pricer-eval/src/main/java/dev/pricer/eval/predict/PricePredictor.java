package dev.pricer.eval.predict;

import dev.pricer.core.model.LlamaModel;
import dev.pricer.core.tokenizer.Tokenizer;
import dev.pricer.data.CuratedItem;
import dev.pricer.data.Prompts;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalDouble;
import java.util.function.IntConsumer;

/**
 * Prices prompts that end after {@code Price is $} with a causal language model, many prompts per forward pass.
 *
 * <p>Number tokens are the vocabulary entries that decode to digits only. Llama 3 splits a number into groups of
 * at most three digits from the left, so a price of 1000 or more starts with a full-width group and goes on in
 * further number tokens: both decodings follow a full-width group with greedy steps until a token that is not a
 * number, so {@code 123} {@code 4} reads as 1234, never as 123.
 */
public final class PricePredictor implements Estimator {

    /** The course's improved predictor: the probability-weighted mean of the top 3 number tokens. */
    public static final String DEFAULT_DECODING = "weighted";
    public static final int DEFAULT_TOP_K = 3;

    private final String name;
    private final LlamaModel model;
    private final Tokenizer tokenizer;
    private final Decoding decoding;
    private final int topK;
    private final int batchSize;
    private final int maxNewTokens;
    private final String[] digits;
    private final int widestGroup;

    public PricePredictor(String name, LlamaModel model, Tokenizer tokenizer, Decoding decoding, int topK, int batchSize) {
        if (topK < 1) throw new IllegalArgumentException("top-k must be at least 1, got " + topK);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        this.name = name;
        this.model = model;
        this.tokenizer = tokenizer;
        this.decoding = decoding;
        this.topK = topK;
        this.batchSize = batchSize;
        this.digits = new String[model.config().vocabSize()];
        int widest = 0;
        for (int id = 0; id < digits.length; id++) {
            String text = tokenizer.decode(new int[]{id});
            if (!text.isEmpty() && text.chars().allMatch(c -> c >= '0' && c <= '9')) {
                digits[id] = text;
                widest = Math.max(widest, text.length());
            }
        }
        if (widest == 0) throw new IllegalArgumentException("the tokenizer " + tokenizer.source() + " has no number tokens");
        this.widestGroup = widest;
        // Enough steps for a price of up to 12 digits, the decimal point and the cents.
        this.maxNewTokens = Math.ceilDiv(12, widest) + 3;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Guess> estimate(List<CuratedItem> items) {
        return estimate(items, n -> { });
    }

    @Override
    public List<Guess> estimate(List<CuratedItem> items, IntConsumer progress) {
        return predict(items.stream().map(CuratedItem::testPrompt).toList(), progress);
    }

    /** Prices of product texts: each becomes the course's test prompt. An empty text is refused. */
    public List<Guess> predictTexts(List<String> texts, IntConsumer progress) {
        List<String> prompts = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            if (texts.get(i).isBlank()) throw new IllegalArgumentException("text " + (i + 1) + " is empty: nothing to price");
            prompts.add(Prompts.test(texts.get(i).strip()));
        }
        return predict(prompts, progress);
    }

    /** Prices of whole prompts, {@code batchSize} at a time; {@code progress} gets the count done after each batch. */
    public List<Guess> predict(List<String> prompts, IntConsumer progress) {
        List<Guess> out = new ArrayList<>(prompts.size());
        for (int from = 0; from < prompts.size(); from += batchSize) {
            List<String> slice = prompts.subList(from, Math.min(prompts.size(), from + batchSize));
            int[][] ids = slice.stream().map(p -> tokenizer.encode(p, true)).toArray(int[][]::new);
            out.addAll(decoding == Decoding.GREEDY ? greedy(ids) : weighted(ids));
            progress.accept(out.size());
        }
        return out;
    }

    private List<Guess> greedy(int[][] prompts) {
        int[][] generated = model.generateGreedy(prompts, maxNewTokens);
        List<Guess> out = new ArrayList<>(prompts.length);
        for (int b = 0; b < prompts.length; b++) {
            int[] fresh = Arrays.copyOfRange(generated[b], prompts[b].length, generated[b].length);
            OptionalDouble price = PriceText.parse(tokenizer.decodeSkippingSpecial(fresh));
            out.add(price.isPresent() ? Guess.of(price.getAsDouble()) : Guess.MISS);
        }
        return out;
    }

    private List<Guess> weighted(int[][] prompts) {
        float[][] probs = model.nextTokenProbabilities(prompts);
        int[][] candidates = new int[prompts.length][];
        List<int[]> continued = new ArrayList<>();
        for (int b = 0; b < prompts.length; b++) {
            candidates[b] = Arrays.stream(topK(probs[b])).filter(id -> digits[id] != null).toArray();
            for (int id : candidates[b]) if (digits[id].length() == widestGroup) continued.add(append(prompts[b], id));
        }
        int[][] rest = continued.isEmpty() ? new int[0][] : model.generateGreedy(continued.toArray(int[][]::new), maxNewTokens - 1);
        List<Guess> out = new ArrayList<>(prompts.length);
        int next = 0;
        for (int b = 0; b < prompts.length; b++) {
            double sum = 0, weight = 0;
            for (int id : candidates[b]) {
                String number = digits[id];
                if (number.length() == widestGroup) {
                    int[] seq = rest[next++];
                    number += followingDigits(seq, prompts[b].length + 1);
                }
                sum += probs[b][id] * Double.parseDouble(number);
                weight += probs[b][id];
            }
            out.add(weight > 0 ? Guess.of(sum / weight) : Guess.MISS);
        }
        return out;
    }

    private String followingDigits(int[] sequence, int from) {
        StringBuilder more = new StringBuilder();
        for (int i = from; i < sequence.length && sequence[i] < digits.length && digits[sequence[i]] != null; i++) {
            more.append(digits[sequence[i]]);
        }
        return more.toString();
    }

    private int[] topK(float[] probs) {
        int k = Math.min(topK, probs.length);
        int[] best = new int[k];
        Arrays.fill(best, -1);
        for (int id = 0; id < probs.length; id++) {
            int at = k;
            while (at > 0 && (best[at - 1] < 0 || probs[best[at - 1]] < probs[id])) at--;
            if (at == k) continue;
            System.arraycopy(best, at, best, at + 1, k - at - 1);
            best[at] = id;
        }
        return best;
    }

    private static int[] append(int[] prompt, int id) {
        int[] out = Arrays.copyOf(prompt, prompt.length + 1);
        out[prompt.length] = id;
        return out;
    }
}
