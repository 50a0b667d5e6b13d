package dev.pricer.eval.track;

import dev.pricer.eval.tester.Report;
import dev.pricer.hub.RepoId;
import dev.pricer.track.Run;
import dev.pricer.track.Tracker;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunQuery;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Attaches the Tester's results to the training run a checkpoint came from, at the checkpoint's step. */
public final class EvalMetrics {

    public static final String PRICE_ERROR = "eval/price_error", RMSLE = "eval/rmsle", HITS = "eval/hits";

    private EvalMetrics() {
    }

    /** The run whose repository this is: the trainer names it {@code {project}/{project}-{run name}}. */
    public static Optional<RunInfo> runOf(Tracker tracker, RepoId repo) {
        List<RunInfo> runs = tracker.store().runs(RunQuery.project(repo.namespace()));
        return runs.stream().filter(r -> repo.name().equals(r.project() + "-" + r.name())).findFirst();
    }

    public static void log(Tracker tracker, String runId, long step, Report report) {
        if (step < 0) throw new IllegalArgumentException("the checkpoint's step is unknown (no step-N tag, no trainer_state.json)");
        try (Run run = tracker.resume(runId)) {
            run.log(step, Map.of(PRICE_ERROR, report.averageError(), RMSLE, report.rmsle(), HITS, report.hits()));
            run.flush();
        }
    }
}
