package dev.pricer.cli.eval;

import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.pricer.cli.data.HubDatasets;
import dev.pricer.cli.progress.ProgressBar;
import dev.pricer.cli.progress.TransferBar;
import dev.pricer.core.backend.Backend;
import dev.pricer.data.CuratedItem;
import dev.pricer.data.read.Splits;
import dev.pricer.eval.baseline.Baselines;
import dev.pricer.eval.chart.Charts;
import dev.pricer.eval.checkpoint.Checkpoint;
import dev.pricer.eval.checkpoint.Checkpoints;
import dev.pricer.eval.checkpoint.ModelRef;
import dev.pricer.eval.checkpoint.PricingModel;
import dev.pricer.eval.predict.Estimator;
import dev.pricer.eval.results.ResultStore;
import dev.pricer.eval.tester.Report;
import dev.pricer.eval.tester.Tables;
import dev.pricer.eval.tester.Tester;
import dev.pricer.eval.track.EvalMetrics;
import dev.pricer.hub.HubClient;
import dev.pricer.track.Tracker;
import dev.pricer.track.TrackerOptions;
import dev.pricer.track.model.RunInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "The price Tester: average error, RMSLE, hits and a scatter chart for a checkpoint (or every one) and baselines.")
public final class EvalCommand implements Callable<Integer> {

    @Option(names = "--model", description = "The adapter's repository, REPO[@REV].")
    String model;

    @Option(names = "--all-revisions", description = "Evaluate every checkpoint (tags step-N) of --model and chart error by step.")
    boolean allRevisions;

    @Option(names = "--data", required = true, paramLabel = "DATA", description = "Curated dataset: a folder with train and test splits, a test file,"
            + " or a dataset repository: datasets/owner/name[@rev] of the hub, hf:datasets/owner/name[@rev] of the Hugging Face Hub.")
    String dataRef;

    @Option(names = "--size", defaultValue = "250", description = "Test items (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--baselines", description = "Also score random, constant, linear regression, bag of words and the base model.")
    boolean baselines;

    @Option(names = "--out", defaultValue = "eval-charts", description = "Folder for the PNG charts (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--run", description = "Tracked run to attach results to (default: the run the repository is named after).")
    String run;

    @Option(names = "--no-track", description = "Do not attach results to the run.")
    boolean noTrack;

    @Option(names = "--items", description = "Print every item's row, coloured.")
    boolean items;

    @Option(names = "--dataset", description = "The leaderboard these results join (default: the --data folder's name, or the repository's owner/name).")
    String dataset;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Mixin
    ModelOptions options;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (model == null && !baselines) throw new IllegalArgumentException("nothing to evaluate: give --model and/or --baselines");
        if (allRevisions && model == null) throw new IllegalArgumentException("--all-revisions needs --model");
        if (size < 1) throw new IllegalArgumentException("--size must be at least 1, not " + size);
        Path data = HubDatasets.locate(dataRef, options.home(), options::hub, System.getenv(), spec.commandLine().getErr()::println,
                TransferBar.on(spec.commandLine().getErr())).path();
        Tester tester = new Tester(Splits.read(data, "test", size), size);
        List<Report> reports = new ArrayList<>();
        List<Charts.StepError> steps = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        if (baselines) {
            List<CuratedItem> train = Splits.read(data, "train", 100_000);
            for (Estimator e : Baselines.all(train, 42)) reports.add(tester.run(e));
        }
        if (model != null) {
            try (HubClient hub = options.hub()) {
                Checkpoints checkpoints = options.checkpoints(hub, spec.commandLine().getErr());
                ModelRef ref = ModelRef.parse(model);
                List<Checkpoint> targets = allRevisions ? checkpoints.all(ref.repo()) : List.of(checkpoints.fetch(ref));
                Path baseDir = options.baseOf(targets.getFirst().dir(), checkpoints, spec.commandLine().getErr());
                try (Backend backend = options.backend(this::note)) {
                    if (baselines) {
                        try (PricingModel base = options.open(backend, baseDir, null)) {
                            reports.add(priced(tester, base.predictor("base model (no adapter)", options.decoding(), options.topK, options.batch)));
                        }
                    }
                    try (PricingModel pricing = options.open(backend, baseDir, targets.getFirst().dir())) {
                        List<Report> tuned = new ArrayList<>();
                        for (Checkpoint c : targets) {
                            pricing.useAdapter(c.dir());
                            Report r = priced(tester, pricing.predictor(c.label(), options.decoding(), options.topK, options.batch));
                            tuned.add(r);
                            if (c.step() >= 0) steps.add(new Charts.StepError(c.step(), r.averageError()));
                        }
                        reports.addAll(tuned);
                        if (!noTrack) notes.addAll(attach(ref, targets, tuned));
                    }
                }
            }
        }
        ResultStore board = new ResultStore(options.home().resolve("eval"));
        String boardName = dataset != null ? dataset : HubDatasets.boardName(dataRef);
        for (Report r : reports) board.save(boardName, r);
        for (Report r : reports) Charts.writePng(Charts.scatter(r), out.resolve("scatter-" + ResultStore.slug(r.name()) + ".png"));
        if (allRevisions && !steps.isEmpty()) {
            Charts.writePng(Charts.errorByStep(model + ": price error by step", steps), out.resolve("error-by-step.png"));
        }
        print(reports, notes);
        return 0;
    }

    /** A model's report, with a bar of the items priced: a model takes minutes where a baseline takes moments. */
    private Report priced(Tester tester, Estimator model) {
        int items = tester.items().size();
        ProgressBar bar = ProgressBar.start(spec.commandLine().getErr(), "pricing with " + model.name(), items, ProgressBar.Unit.COUNT);
        Report report = tester.run(model, done -> bar.update(done, "items"));
        bar.finish(items, "items");
        return report;
    }

    private List<String> attach(ModelRef ref, List<Checkpoint> targets, List<Report> tuned) {
        List<String> notes = new ArrayList<>();
        try (Tracker tracker = Tracker.open(trackerOptions())) {
            Optional<String> runId = run != null ? Optional.of(run) : EvalMetrics.runOf(tracker, ref.repo()).map(RunInfo::id);
            if (runId.isEmpty()) {
                notes.add("no tracked run is named after " + ref.repo() + ": results not attached (use --run)");
                return notes;
            }
            for (int i = 0; i < targets.size(); i++) {
                if (targets.get(i).step() < 0) {
                    notes.add(targets.get(i).label() + " has no step: not attached");
                    continue;
                }
                EvalMetrics.log(tracker, runId.get(), targets.get(i).step(), tuned.get(i));
                notes.add("attached to run " + runId.get() + " at step " + targets.get(i).step());
            }
        }
        return notes;
    }

    /** The environment's tracker (server and token), its store under the same home as the model cache. */
    private TrackerOptions trackerOptions() {
        TrackerOptions env = TrackerOptions.fromEnvironment();
        return new TrackerOptions(options.home(), env.server(), env.token(), java.time.Duration.ZERO);
    }

    private void print(List<Report> reports, List<String> notes) throws Exception {
        PrintWriter w = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("reports", reports.stream().map(r -> items ? Tables.detailed(r) : Tables.summary(r)).toList());
            doc.put("charts", out.toString());
            doc.put("notes", notes);
            w.println(JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValueAsString(doc));
            return;
        }
        boolean ansi = System.console() != null && System.getenv("NO_COLOR") == null;
        if (items) for (Report r : reports) w.println(r.name() + "\n" + Tables.items(r, ansi));
        w.print(Tables.comparison(reports));
        for (String n : notes) w.println(n);
        w.println("charts in " + out);
    }

    private void note(String line) {
        spec.commandLine().getErr().println(line);
    }

}
