package dev.pricer.data.stats;

import java.util.Arrays;
import dev.pricer.core.tokenizer.Tokenizer;
import dev.pricer.data.Item;
import dev.pricer.data.curate.CurationConfig;
import dev.pricer.data.curate.TextBuilder;
import dev.pricer.data.read.ItemReader;
import dev.pricer.data.read.Row;
import dev.pricer.data.read.Source;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongConsumer;

/**
 * Counts, price and length histograms and per-category figures of a dataset, gathered in one streaming pass.
 * Lengths are tokens of the model's tokenizer when one is given, else characters of the item's text.
 */
public record DatasetStats(long rows, long items, long skipped, List<Row.Skipped> firstSkipped,
                           Histogram prices, Histogram lengths, String lengthUnit,
                           double meanPrice, double minPrice, double maxPrice, List<CategoryStats> categories) {

    public static final double[] PRICE_EDGES = {0, 10, 25, 50, 100, 200, 300, 500, 750, 1000};
    public static final double[] TOKEN_EDGES = {0, 50, 100, 150, 160, 170, 180, 200, 300, 500};
    public static final double[] CHAR_EDGES = {0, 100, 300, 500, 750, 1000, 1500, 2000, 5000};

    public record Histogram(double[] edges, long[] counts) {
        static Histogram of(double[] edges) {
            return new Histogram(edges, new long[edges.length]);
        }

        /** Bin {@code i} counts values in {@code [edges[i], edges[i+1])}; the last bin is open above. */
        void add(double v) {
            int i = edges.length - 1;
            while (i > 0 && v < edges[i]) i--;
            counts[i]++;
        }

        public String label(int i) {
            return i == edges.length - 1 ? fmt(edges[i]) + "+" : fmt(edges[i]) + "-" + fmt(edges[i + 1]);
        }

        private static String fmt(double v) {
            return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
        }
    }

    public record CategoryStats(String name, long count, double meanPrice, double medianPrice, double meanLength) {}

    /**
     * Reads the whole source. {@code tokenizer} may be null (lengths then count characters); the text measured is
     * the one curation would build, without the minimum-length and token steps.
     */
    public static DatasetStats of(Source source, Tokenizer tokenizer, LongConsumer progress) {
        TextBuilder text = new TextBuilder(CurationConfig.course());
        Histogram prices = Histogram.of(PRICE_EDGES);
        Histogram lengths = Histogram.of(tokenizer == null ? CHAR_EDGES : TOKEN_EDGES);
        Map<String, Gather> byCategory = new TreeMap<>();
        List<Row.Skipped> first = new ArrayList<>();
        long rows = 0, items = 0, skipped = 0;
        double sum = 0, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        try (ItemReader reader = ItemReader.open(source)) {
            while (reader.hasNext()) {
                Row row = reader.next();
                rows++;
                if (row instanceof Row.Skipped s) {
                    skipped++;
                    if (first.size() < 10) first.add(s);
                    continue;
                }
                Item item = ((Row.Parsed) row).item();
                String body = text.text(item.title(), text.contents(item));
                int length = tokenizer == null ? body.length() : tokenizer.encode(body, false).length;
                items++;
                sum += item.price();
                min = Math.min(min, item.price());
                max = Math.max(max, item.price());
                prices.add(item.price());
                lengths.add(length);
                byCategory.computeIfAbsent(item.category(), k -> new Gather()).add(item.price(), length);
                if (rows % 10_000 == 0) progress.accept(rows);
            }
        }
        progress.accept(rows);
        List<CategoryStats> categories = byCategory.entrySet().stream().map(e -> e.getValue().stats(e.getKey())).toList();
        return new DatasetStats(rows, items, skipped, first, prices, lengths, tokenizer == null ? "characters" : "tokens",
                items == 0 ? Double.NaN : sum / items, items == 0 ? Double.NaN : min, items == 0 ? Double.NaN : max, categories);
    }

    /** Per-category sums; the median needs the prices, kept in a growing array (8 bytes an item). */
    private static final class Gather {
        double[] prices = new double[64];
        long count;
        double sum;
        double lengthSum;

        void add(double price, int length) {
            if (count == prices.length) prices = Arrays.copyOf(prices, prices.length * 2);
            prices[(int) count] = price;
            count++;
            sum += price;
            lengthSum += length;
        }

        CategoryStats stats(String name) {
            double[] sorted = Arrays.copyOf(prices, (int) count);
            Arrays.sort(sorted);
            double median = count % 2 == 1 ? sorted[(int) (count / 2)] : (sorted[(int) (count / 2) - 1] + sorted[(int) (count / 2)]) / 2;
            return new CategoryStats(name.isEmpty() ? "(none)" : name, count, sum / count, median, lengthSum / count);
        }
    }
}
