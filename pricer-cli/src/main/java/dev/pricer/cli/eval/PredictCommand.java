package dev.pricer.cli.eval;

import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.pricer.cli.progress.ProgressBar;
import dev.pricer.core.backend.Backend;
import dev.pricer.eval.checkpoint.Checkpoint;
import dev.pricer.eval.checkpoint.Checkpoints;
import dev.pricer.eval.checkpoint.ModelRef;
import dev.pricer.eval.checkpoint.PricingModel;
import dev.pricer.eval.predict.Guess;
import dev.pricer.hub.HubClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Price product texts with a fine-tuned model at a revision (base + adapter from the hub).")
public final class PredictCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "The adapter's repository, REPO[@REV] (a sha, branch or tag).")
    String model;

    @Mixin
    ModelOptions options;

    @Option(names = "--file", description = "A file of texts, one per line.")
    Path file;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Product texts to price.")
    List<String> texts = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        List<String> all = new ArrayList<>(texts);
        if (file != null) all.addAll(Files.readAllLines(file));
        if (all.isEmpty()) throw new IllegalArgumentException("no text to price: give TEXT or --file");
        try (HubClient hub = options.hub()) {
            Checkpoints checkpoints = options.checkpoints(hub, spec.commandLine().getErr());
            Checkpoint checkpoint = checkpoints.fetch(ModelRef.parse(model));
            Path baseDir = options.baseOf(checkpoint.dir(), checkpoints, spec.commandLine().getErr());
            try (Backend backend = options.backend(spec.commandLine().getErr()::println);
                 PricingModel pricing = options.open(backend, baseDir, checkpoint.dir())) {
                ProgressBar bar = ProgressBar.start(spec.commandLine().getErr(), "pricing", all.size(), ProgressBar.Unit.COUNT);
                List<Guess> guesses = pricing.predictor(checkpoint.label(), options.decoding(), options.topK, options.batch)
                        .predictTexts(all, done -> bar.update(done, "texts"));
                bar.finish(all.size(), "texts");
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    List<Map<String, Object>> rows = new ArrayList<>();
                    for (int i = 0; i < all.size(); i++) {
                        Map<String, Object> row = new LinkedHashMap<>();
                        row.put("text", all.get(i));
                        row.put("price", guesses.get(i).price());
                        row.put("miss", guesses.get(i).miss());
                        rows.add(row);
                    }
                    out.println(JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValueAsString(
                            Map.of("model", checkpoint.repo().toString(), "sha", checkpoint.sha(), "predictions", rows)));
                } else {
                    for (Guess g : guesses) out.println(g.miss() ? "not a number" : String.format(Locale.ROOT, "$%,.2f", g.price()));
                }
            }
        }
        return 0;
    }
}
