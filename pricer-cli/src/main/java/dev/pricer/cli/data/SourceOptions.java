package dev.pricer.cli.data;

import dev.pricer.cli.progress.TransferBar;
import dev.pricer.data.read.Columns;
import dev.pricer.data.read.Layout;
import dev.pricer.data.read.Source;
import dev.pricer.hub.Hubs;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Where items come from and what their columns mean; shared by curate and stats. */
final class SourceOptions {

    @Parameters(arity = "1..*", paramLabel = "INPUT",
            description = "Data files (.parquet, .jsonl, .csv, .tsv, optionally .gz), globs such as data/train-*.parquet, "
                    + "a Hugging Face dataset folder, or a dataset repository: datasets/owner/name[@rev] of the hub, hf:datasets/owner/name[@rev]")
    List<String> inputs;

    @Option(names = "--home", description = "Pricer home: its local hub (without PRICER_HUB_URL or PRICER_SERVER) and the cache of hub datasets"
            + " (default: $PRICER_HOME, else ~/.pricer)")
    Path home;

    @Option(names = "--split", defaultValue = "train", description = "Split to read from a dataset folder (default: ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--layout", description = "prompts (text, price), amazon (raw metadata) or columns; default: told from the columns")
    String layout;

    @Option(names = "--text-columns", split = ",", description = "Columns whose values make the text (a 'title' column becomes the title)")
    List<String> textColumns;

    @Option(names = "--price-column", description = "Column holding the price (with --text-columns)")
    String priceColumn;

    @Option(names = "--category-column", description = "Column holding the category (with --text-columns)")
    String categoryColumn;

    @Option(names = "--category", description = "Category of every item (default: from the file name meta_<Category>.jsonl or the data)")
    String category;

    /** The environment, with PRICER_HOME set to --home when given. */
    Map<String, String> environment() {
        return home == null ? System.getenv() : Hubs.environment(home);
    }

    Source source() {
        List<Path> files = new ArrayList<>();
        Map<String, String> env = environment();
        for (String input : inputs) {
            Path located = HubDatasets.locate(input, Hubs.pricerHome(env), () -> Hubs.fromEnvironment(env), env, System.err::println,
                    TransferBar.on(new PrintWriter(System.err, true))).path();
            files.addAll(Source.resolve(located, split));
        }
        Columns columns = null;
        if (textColumns != null || priceColumn != null) {
            if (textColumns == null || priceColumn == null) {
                throw new IllegalArgumentException("--text-columns and --price-column go together");
            }
            columns = new Columns(textColumns, priceColumn, categoryColumn);
        }
        Layout l = layout == null ? null : Layout.parse(layout);
        return new Source(files, l, columns, category);
    }
}
