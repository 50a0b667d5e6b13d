package dev.pricer.eval.baseline;

import dev.pricer.data.CuratedItem;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The course's bag of words: counts of the most frequent words of the training texts, stop words left out. */
final class BagOfWords {

    static final int MAX_WORDS = 1000;
    private static final Set<String> STOP_WORDS = Set.of("a", "an", "and", "are", "as", "at", "be", "by", "for", "from",
            "has", "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "with", "you", "your", "our");

    private final Map<String, Integer> vocabulary;

    private BagOfWords(Map<String, Integer> vocabulary) {
        this.vocabulary = vocabulary;
    }

    static BagOfWords fit(List<CuratedItem> train) {
        if (train.isEmpty()) throw new IllegalArgumentException("no training items for the bag of words");
        Map<String, Integer> frequency = new HashMap<>();
        for (CuratedItem item : train) for (String w : words(item.text())) frequency.merge(w, 1, Integer::sum);
        Map<String, Integer> vocabulary = new LinkedHashMap<>();
        frequency.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(MAX_WORDS).forEach(e -> vocabulary.put(e.getKey(), vocabulary.size()));
        return new BagOfWords(vocabulary);
    }

    static List<String> words(String text) {
        return Arrays.stream(text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+"))
                .filter(w -> w.length() > 1 && !STOP_WORDS.contains(w)).toList();
    }

    int size() {
        return vocabulary.size();
    }

    /** Word index to count, in index order. */
    Map<Integer, Integer> counts(String text) {
        Map<Integer, Integer> counts = new TreeMap<>();
        for (String w : words(text)) {
            Integer id = vocabulary.get(w);
            if (id != null) counts.merge(id, 1, Integer::sum);
        }
        return counts;
    }
}
