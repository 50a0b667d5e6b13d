package dev.pricer.cli.train;

import dev.pricer.hub.CheckpointOrigin;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.HubException;
import dev.pricer.hub.Push;
import dev.pricer.hub.RepoId;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointSink;
import dev.pricer.train.config.TrainingArguments;
import dev.pricer.train.engine.LlamaTrainable;
import dev.pricer.train.loop.Trainer;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Each checkpoint as a commit in the run's model repository ({@code {project}/{project}-{run name}}), tagged
 * {@code step-N}: the hub's Files and versions for a run, as {@code push_to_hub} every {@code save_steps}. The
 * commit message carries the step and the tracked run's id as trailers ({@link CheckpointOrigin}), so the hub
 * links each commit to the run at the step it saved.
 */
public final class HubCheckpoints implements CheckpointSink {

    private final HubClient hub;
    private final RepoId repo;
    private final String trackedRunId;
    private final String strategy;
    private final boolean isPrivate;

    /**
     * {@code trackedRunId}: the run the metrics are tracked as, or null when they are not; {@code strategy}: HF's
     * hub_strategy; {@code isPrivate}: hub_private_repo, for a repository the first save creates.
     */
    public HubCheckpoints(HubClient hub, RepoId repo, String trackedRunId, String strategy, boolean isPrivate) {
        this.hub = hub;
        this.repo = repo;
        this.trackedRunId = trackedRunId;
        this.strategy = strategy;
        this.isPrivate = isPrivate;
    }

    /**
     * What only resuming the run needs, committed with hub_strategy checkpoint: the optimizer's moments (twice the
     * adapter's size), the schedule and the random state. The Trainer's default (every_save) pushes the model alone.
     */
    static final Set<String> RESUME_ONLY = Set.of(LlamaTrainable.OPTIMIZER_FILE, Trainer.SCHEDULER_FILE, Trainer.RNG_FILE);

    /** The repository a run's checkpoints go to. */
    public static RepoId repoOf(String project, String runName) {
        return RepoId.model(project + "/" + project + "-" + runName);
    }

    public RepoId repo() {
        return repo;
    }

    @Override
    public void publish(Checkpoint checkpoint, boolean finalCheckpoint) {
        if (strategy.equals(TrainingArguments.HUB_END) && !finalCheckpoint) return;
        hub.ensureRepo(repo, isPrivate);
        Map<String, java.nio.file.Path> files = new LinkedHashMap<>();
        for (String name : checkpoint.files()) {
            if (strategy.equals(TrainingArguments.HUB_CHECKPOINT) || !RESUME_ONLY.contains(name)) files.put(name, checkpoint.file(name));
        }
        CheckpointOrigin origin = new CheckpointOrigin(checkpoint.step(), trackedRunId);
        String message = origin.message((finalCheckpoint ? "final checkpoint, step " : "step ") + checkpoint.step());
        CommitInfo commit = hub.push(repo, Push.files(files, message));
        try {
            hub.tag(repo, origin.tag(), commit.sha());
        } catch (HubException.Conflict e) {
            // A resumed run saves its last step again: the tag already names that step's first commit.
        }
    }

    @Override
    public void close() {
        hub.close();
    }
}
