package dev.pricer.cli.data;

import dev.pricer.cli.progress.ProgressBar;
import dev.pricer.data.synth.CatalogGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code pricer data generate}: a seeded synthetic catalog in raw Amazon metadata layout. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Write a seeded synthetic product catalog as raw-Amazon-style JSON Lines (curate it like real data).")
public final class GenerateCommand implements Callable<Integer> {

    @Option(names = {"-o", "--output"}, required = true, description = "File to write (.jsonl or .jsonl.gz)")
    Path output;

    @Option(names = {"-n", "--count"}, defaultValue = "20000", description = "Number of items (default: ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--seed", defaultValue = "42", description = "Seed; the same seed writes the same catalog (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() {
        return DataCommand.reportingErrors(this::generate);
    }

    private int generate() {
        if (count < 0) {
            System.err.println("error: --count must not be negative");
            return 2;
        }
        String name = output.getFileName().toString().toLowerCase(Locale.ROOT);
        if (!name.endsWith(".jsonl") && !name.endsWith(".jsonl.gz")) {
            System.err.println("error: " + output + ": the catalog is JSON Lines; name it .jsonl or .jsonl.gz");
            return 2;
        }
        ProgressBar progress = ProgressBar.onStandardError("generate", count, ProgressBar.Unit.COUNT);
        new CatalogGenerator(seed).write(output, count, done -> progress.update(done, "items"));
        progress.finish(count, "items");
        System.out.printf("wrote %,d items to %s%n", count, output);
        return 0;
    }
}
