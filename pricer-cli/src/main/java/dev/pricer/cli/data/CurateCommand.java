package dev.pricer.cli.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pricer.cli.progress.ProgressBar;
import dev.pricer.cli.progress.TransferBar;
import dev.pricer.core.tokenizer.Tokenizer;
import dev.pricer.data.curate.Curation;
import dev.pricer.data.curate.CurationConfig;
import dev.pricer.data.curate.Curator;
import dev.pricer.data.read.Row;
import dev.pricer.data.write.OutputFormat;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.Hubs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code pricer data curate}: the course's curation, each step switchable, writing train and test splits. */
@Command(name = "curate", mixinStandardHelpOptions = true,
        description = "Curate items as the course did and write train and test splits (JSONL or Parquet).")
public final class CurateCommand implements Callable<Integer> {

    private static final CurationConfig COURSE = CurationConfig.course();

    @Mixin
    SourceOptions input = new SourceOptions();

    @Option(names = {"-o", "--output"}, required = true, description = "Folder for train.<format> and test.<format>")
    Path output;

    @Option(names = "--format", defaultValue = "jsonl", description = "jsonl or parquet (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--tokenizer", description = "The model's tokenizer.json (or .json.gz, or model folder); needed by the token steps")
    Path tokenizer;

    @Option(names = "--min-price", defaultValue = "0.5", description = "Lowest price kept (default: ${DEFAULT-VALUE})")
    double minPrice;

    @Option(names = "--max-price", defaultValue = "999.49", description = "Highest price kept (default: ${DEFAULT-VALUE})")
    double maxPrice;

    @Option(names = "--text-fields", split = ",", defaultValue = "title,description,features,details",
            description = "Parts that make the text (default: ${DEFAULT-VALUE})")
    List<String> textFields;

    @Option(names = "--remove-boilerplate", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Cut the course's boilerplate phrases from the details (default: on)")
    boolean removeBoilerplate;

    @Option(names = "--part-number-length", defaultValue = "7",
            description = "Drop words this long or longer that contain a digit; 0 keeps them (default: ${DEFAULT-VALUE})")
    int partNumberLength;

    @Option(names = "--min-chars", defaultValue = "300", description = "Contents must be longer than this (default: ${DEFAULT-VALUE})")
    int minChars;

    @Option(names = "--ceiling-chars", defaultValue = "1120", description = "Contents are cut here before tokenizing (default: ${DEFAULT-VALUE})")
    int ceilingChars;

    @Option(names = "--token-limits", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Run the token steps (default: on; needs --tokenizer)")
    boolean tokenLimits;

    @Option(names = "--min-tokens", defaultValue = "150", description = "Text must have more tokens than this (default: ${DEFAULT-VALUE})")
    int minTokens;

    @Option(names = "--max-tokens", defaultValue = "160", description = "Text is cut to this many tokens (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--balance", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Sample evenly over rounded-price buckets (default: on)")
    boolean balance;

    @Option(names = "--bucket-cap", defaultValue = "1200", description = "Most items per price bucket (default: ${DEFAULT-VALUE})")
    int bucketCap;

    @Option(names = "--keep-all-from", defaultValue = "240", description = "Buckets from this price keep all items (default: ${DEFAULT-VALUE})")
    int keepAllFrom;

    @Option(names = "--category-weight", description = "Sampling weight of a category, NAME=WEIGHT, repeatable (default: Automotive=1)")
    Map<String, Double> categoryWeights;

    @Option(names = "--default-weight", defaultValue = "5", description = "Weight of other categories (default: ${DEFAULT-VALUE})")
    double defaultWeight;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of sampling and shuffle (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--shuffle", negatable = true, defaultValue = "true", fallbackValue = "true", description = "Shuffle before the split (default: on)")
    boolean shuffle;

    @Option(names = "--train-size", defaultValue = "400000", description = "Items in train (default: ${DEFAULT-VALUE})")
    int trainSize;

    @Option(names = "--test-size", defaultValue = "2000", description = "Items in test (default: ${DEFAULT-VALUE})")
    int testSize;

    @Option(names = "--threads", description = "Worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--push-to-hub", paramLabel = "OWNER/NAME", description = "Also commit the splits to the hub's dataset repository"
            + " datasets/OWNER/NAME (created if missing), laid out as push_to_hub does, with a dataset card; train and eval read it by that name")
    String pushToHub;

    @Option(names = "--private", description = "Create that repository private")
    boolean isPrivate;

    @Option(names = "--json", description = "Print the report as JSON")
    boolean json;

    @Override
    public Integer call() {
        return DataCommand.reportingErrors(this::work);
    }

    private int work() throws Exception {
        if (threads != null && threads < 1) throw new IllegalArgumentException("--threads must be at least 1, not " + threads);
        CurationConfig config = new CurationConfig(minPrice, maxPrice, textFields, removeBoilerplate,
                CurationConfig.COURSE_BOILERPLATE, partNumberLength, minChars, ceilingChars, tokenLimits, minTokens,
                maxTokens, balance, bucketCap, keepAllFrom,
                categoryWeights == null ? COURSE.categoryWeights() : categoryWeights, defaultWeight, seed, shuffle,
                trainSize, testSize);
        if (tokenLimits && tokenizer == null) {
            System.err.println("error: the token steps need --tokenizer (the model's tokenizer.json), or pass --no-token-limits");
            return 2;
        }
        var source = input.source();
        Tokenizer tok = tokenLimits ? Tokenizer.load(tokenizer) : null;
        ProgressBar progress = ProgressBar.onStandardError("curate", 0, ProgressBar.Unit.COUNT);
        Curation.Report report;
        try {
            Curation curation = new Curation(new Curator(config, tok),
                    threads == null ? Runtime.getRuntime().availableProcessors() : threads,
                    (rows, kept) -> progress.update(rows, "records, " + String.format("%,d", kept) + " curated"));
            report = curation.run(source, output, OutputFormat.parse(format));
            progress.finish(report.rows(), "records, " + String.format("%,d", report.curated()) + " curated");
        } finally {
            if (tok != null) tok.close();
        }
        Map<String, Object> summary = asMap(report);
        if (pushToHub != null) {
            try (HubClient hub = Hubs.fromEnvironment(input.environment())) {
                CommitInfo commit = DatasetPush.push(hub, pushToHub, isPrivate, report, OutputFormat.parse(format), config,
                        TransferBar.on(new PrintWriter(System.err, true)));
                summary.put("pushed", "datasets/" + pushToHub + "@" + commit.sha());
            }
        }
        if (json) {
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(summary));
        } else {
            print(report);
            if (summary.containsKey("pushed")) System.out.println("pushed to " + summary.get("pushed"));
        }
        return 0;
    }

    private static Map<String, Object> asMap(Curation.Report r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("records", r.rows());
        m.put("skipped", r.skipped());
        m.put("first_skipped", r.firstSkipped().stream().map(s -> Map.of("file", s.file().toString(), "where", s.where(), "reason", s.reason())).toList());
        m.put("dropped", r.dropped());
        m.put("curated", r.curated());
        m.put("curated_by_category", r.curatedByCategory());
        m.put("sampled", r.sampled());
        m.put("train", r.train());
        m.put("test", r.test());
        m.put("outputs", r.outputs().stream().map(Path::toString).toList());
        return m;
    }

    private static void print(Curation.Report r) {
        System.out.printf("records read      %,d%n", r.rows());
        System.out.printf("skipped (bad)     %,d%n", r.skipped());
        for (Row.Skipped s : r.firstSkipped()) System.out.println("  " + s);
        if (r.skipped() > r.firstSkipped().size()) System.out.printf("  ... and %,d more%n", r.skipped() - r.firstSkipped().size());
        r.dropped().forEach((drop, n) -> System.out.printf("dropped: %-16s %,d%n", drop.name().toLowerCase().replace('_', ' '), n));
        System.out.printf("curated           %,d%n", r.curated());
        r.curatedByCategory().forEach((c, n) -> System.out.printf("  %-32s %,d%n", c.isEmpty() ? "(none)" : c, n));
        System.out.printf("after balancing   %,d%n", r.sampled());
        System.out.printf("train %,d, test %,d%n", r.train(), r.test());
        r.outputs().forEach(p -> System.out.println("wrote " + p));
    }
}
