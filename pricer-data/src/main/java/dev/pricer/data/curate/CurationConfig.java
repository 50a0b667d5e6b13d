package dev.pricer.data.curate;

import java.util.List;
import java.util.Map;

/**
 * Every curation step's switch and value. {@link #course()} gives the values of the course's price-predictor week;
 * each field can be changed on its own.
 *
 * @param minPrice            lowest price kept (inclusive)
 * @param maxPrice            highest price kept (inclusive)
 * @param textFields          which of title, description, features, details make the text, in that order
 * @param removeBoilerplate   whether {@code boilerplate} phrases are cut from the details
 * @param boilerplate         phrases cut from the details
 * @param partNumberLength    words this long or longer that contain a digit are dropped; 0 keeps them
 * @param minChars            the contents (text without the title) must be longer than this, in characters
 * @param ceilingChars        contents are cut to this many characters before tokenizing, to bound the work
 * @param limitTokens         whether the token steps run (they need the model's tokenizer)
 * @param minTokens           the text must have more tokens than this
 * @param maxTokens           the text is cut to this many tokens
 * @param balance             whether to sample evenly over rounded-price buckets
 * @param bucketCap           at most this many items per bucket below {@code keepAllFrom}
 * @param keepAllFrom         buckets at or above this price keep every item
 * @param categoryWeights     sampling weight of a category within an over-full bucket
 * @param defaultWeight       weight of categories not in {@code categoryWeights}
 * @param seed                seed of the sampling and the shuffle
 * @param shuffle             whether the kept items are shuffled before the split
 * @param trainSize           items in the training split (fewer when there are not enough)
 * @param testSize            items in the test split, taken after the training items
 */
public record CurationConfig(double minPrice, double maxPrice, List<String> textFields,
                             boolean removeBoilerplate, List<String> boilerplate, int partNumberLength,
                             int minChars, int ceilingChars, boolean limitTokens, int minTokens, int maxTokens,
                             boolean balance, int bucketCap, int keepAllFrom, Map<String, Double> categoryWeights,
                             double defaultWeight, long seed, boolean shuffle, int trainSize, int testSize) {

    public static final List<String> TEXT_FIELDS = List.of("title", "description", "features", "details");

    /** Spec-sheet lines that say nothing about price; the course cut them from the details. */
    public static final List<String> COURSE_BOILERPLATE = List.of(
            "\"Batteries Included?\": \"No\"", "\"Batteries Included?\": \"Yes\"",
            "\"Batteries Required?\": \"No\"", "\"Batteries Required?\": \"Yes\"",
            "By Manufacturer", "Item", "Date First", "Package", ":", "Number of", "Best Sellers", "Number",
            "Product ");

    public CurationConfig {
        textFields = List.copyOf(textFields);
        for (String f : textFields) {
            if (!TEXT_FIELDS.contains(f)) {
                throw new IllegalArgumentException("unknown text field '" + f + "' (known: " + TEXT_FIELDS + ")");
            }
        }
        boilerplate = List.copyOf(boilerplate);
        categoryWeights = Map.copyOf(categoryWeights);
        if (!(minPrice <= maxPrice)) throw new IllegalArgumentException("min price " + minPrice + " > max price " + maxPrice);
        if (limitTokens && minTokens >= maxTokens) {
            throw new IllegalArgumentException("min tokens " + minTokens + " must be below max tokens " + maxTokens);
        }
        if (limitTokens) atLeast("min tokens", minTokens, 0);
        atLeast("part number length", partNumberLength, 0);
        atLeast("min chars", minChars, 0);
        atLeast("ceiling chars", ceilingChars, 1);
        atLeast("bucket cap", bucketCap, 0);
        if (trainSize < 0 || testSize < 0) throw new IllegalArgumentException("split sizes must not be negative");
        for (var w : categoryWeights.entrySet()) {
            if (!(w.getValue() > 0)) throw new IllegalArgumentException("category weight " + w + " must be positive");
        }
        if (!(defaultWeight > 0)) throw new IllegalArgumentException("default weight must be positive");
    }

    private static void atLeast(String setting, int value, int least) {
        if (value < least) {
            throw new IllegalArgumentException(setting + " " + value + (least == 0 ? " must not be negative" : " must be at least " + least));
        }
    }

    public static CurationConfig course() {
        return new CurationConfig(0.5, 999.49, TEXT_FIELDS, true, COURSE_BOILERPLATE, 7,
                300, 160 * 7, true, 150, 160,
                true, 1200, 240, Map.of("Automotive", 1.0), 5.0,
                42, true, 400_000, 2_000);
    }

    public double weightOf(String category) {
        return categoryWeights.getOrDefault(category, defaultWeight);
    }
}
