package dev.pricer.cli.train;

import dev.pricer.hub.CheckpointOrigin;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.HubException;
import dev.pricer.hub.Push;
import dev.pricer.hub.RepoId;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointSink;

import java.util.LinkedHashMap;
import java.util.Map;

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

    /** {@code trackedRunId}: the run the metrics are tracked as, or null when they are not. */
    public HubCheckpoints(HubClient hub, RepoId repo, String trackedRunId) {
        this.hub = hub;
        this.repo = repo;
        this.trackedRunId = trackedRunId;
    }

    /** The repository a run's checkpoints go to. */
    public static RepoId repoOf(String project, String runName) {
        return RepoId.model(project + "/" + project + "-" + runName);
    }

    public RepoId repo() {
        return repo;
    }

    @Override
    public void publish(Checkpoint checkpoint, boolean finalCheckpoint) {
        hub.ensureRepo(repo, false);
        Map<String, java.nio.file.Path> files = new LinkedHashMap<>();
        for (String name : checkpoint.files()) files.put(name, checkpoint.file(name));
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
