package dev.pricer.cli.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pricer.cli.progress.ProgressBar;
import dev.pricer.core.tokenizer.Tokenizer;
import dev.pricer.data.read.Row;
import dev.pricer.data.stats.DatasetStats;
import dev.pricer.data.stats.StatsChart;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code pricer data stats}: counts, histograms and per-category figures, in the terminal and as a chart. */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = "Show counts, price and length histograms and per-category figures of a dataset.")
public final class StatsCommand implements Callable<Integer> {

    @Mixin
    SourceOptions input = new SourceOptions();

    @Option(names = "--tokenizer", description = "Measure lengths in this tokenizer's tokens (default: characters)")
    Path tokenizer;

    @Option(names = "--chart", description = "Also write the histograms to this .png or .html file")
    Path chart;

    @Option(names = "--json", description = "Print as JSON")
    boolean json;

    @Override
    public Integer call() {
        return DataCommand.reportingErrors(this::work);
    }

    private int work() throws Exception {
        var source = input.source();
        ProgressBar progress = ProgressBar.onStandardError("stats", 0, ProgressBar.Unit.COUNT);
        DatasetStats stats;
        try (Tokenizer tok = tokenizer == null ? null : Tokenizer.load(tokenizer)) {
            stats = DatasetStats.of(source, tok, rows -> progress.update(rows, "records"));
        }
        progress.finish(stats.rows(), "records");
        if (chart != null) StatsChart.write(stats, chart, source.files().getFirst().getFileName().toString());
        if (json) System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(asMap(stats)));
        else print(stats);
        if (chart != null && !json) System.out.println("wrote " + chart);
        return 0;
    }

    private static Map<String, Object> asMap(DatasetStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("records", s.rows());
        m.put("items", s.items());
        m.put("skipped", s.skipped());
        m.put("first_skipped", s.firstSkipped().stream().map(k -> Map.of("file", k.file().toString(), "where", k.where(), "reason", k.reason())).toList());
        m.put("price", Map.of("mean", s.meanPrice(), "min", s.minPrice(), "max", s.maxPrice(), "histogram", histogram(s.prices())));
        m.put("length", Map.of("unit", s.lengthUnit(), "histogram", histogram(s.lengths())));
        m.put("categories", s.categories());
        return m;
    }

    private static Map<String, Long> histogram(DatasetStats.Histogram h) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < h.counts().length; i++) m.put(h.label(i), h.counts()[i]);
        return m;
    }

    private static void print(DatasetStats s) {
        System.out.printf(Locale.ROOT, "records %,d, items %,d, skipped %,d%n", s.rows(), s.items(), s.skipped());
        for (Row.Skipped k : s.firstSkipped()) System.out.println("  " + k);
        System.out.printf(Locale.ROOT, "price: mean $%.2f, min $%.2f, max $%.2f%n%n", s.meanPrice(), s.minPrice(), s.maxPrice());
        printHistogram("price ($)", s.prices());
        printHistogram("length (" + s.lengthUnit() + ")", s.lengths());
        System.out.printf("%-32s %9s %11s %11s %11s%n", "category", "items", "mean $", "median $", "mean len");
        for (DatasetStats.CategoryStats c : s.categories()) {
            System.out.printf(Locale.ROOT, "%-32s %,9d %11.2f %11.2f %11.1f%n", c.name(), c.count(), c.meanPrice(), c.medianPrice(), c.meanLength());
        }
    }

    private static void printHistogram(String title, DatasetStats.Histogram h) {
        System.out.println(title);
        long max = 1;
        for (long c : h.counts()) max = Math.max(max, c);
        for (int i = 0; i < h.counts().length; i++) {
            int bar = (int) Math.round(40.0 * h.counts()[i] / max);
            System.out.printf("  %-10s %-40s %,d%n", h.label(i), "#".repeat(bar), h.counts()[i]);
        }
        System.out.println();
    }
}
