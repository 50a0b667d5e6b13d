package dev.pricer.cli.train;

import dev.pricer.eval.checkpoint.Checkpoints;
import dev.pricer.eval.checkpoint.ModelRef;
import dev.pricer.hub.CheckpointOrigin;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.FileEntry;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.Ref;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.TransferProgress;
import dev.pricer.train.checkpoint.Checkpoint;
import dev.pricer.train.checkpoint.CheckpointPart;
import dev.pricer.train.checkpoint.CheckpointStore;
import dev.pricer.train.checkpoint.TrainerState;
import dev.pricer.train.engine.LlamaTrainable;
import dev.pricer.train.loop.Trainer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A run continued from a checkpoint commit of its hub repository, on any machine that reaches the hub: what the
 * Trainer's {@code hub_strategy="checkpoint"} and {@code resume_from_checkpoint} give a notebook whose machine went
 * away. The commit must hold what resuming needs, which {@code --hub-strategy checkpoint} commits. Its files become
 * the run folder's {@code checkpoint-N}, whole or not at all ({@link CheckpointStore}), and its trailers name the step
 * and the tracked run that it continues ({@link CheckpointOrigin}).
 */
record HubResume(RepoId repo, String sha, CheckpointOrigin origin, List<FileEntry> files) {

    /** What the trainer reads to continue a run where it stopped. */
    static final List<String> NEEDED = List.of(LlamaTrainable.OPTIMIZER_FILE, Trainer.SCHEDULER_FILE, Trainer.RNG_FILE, TrainerState.FILE,
            Trainer.ARGS_FILE);

    /** The commit {@code ref} names; refused, naming what is missing, unless it is a checkpoint the run can go on from. */
    static HubResume find(HubClient hub, Checkpoints checkpoints, ModelRef ref) {
        String sha = checkpoints.resolve(ref);
        String at = ref.repo() + "@" + ref.revision() + (ref.revision().equals(sha) ? "" : " (" + sha.substring(0, 7) + ")");
        CommitInfo commit = hub.log(ref.repo(), sha, 1).getFirst();
        Set<String> tags = hub.refs(ref.repo()).stream().filter(r -> r.kind() == Ref.Kind.TAG && r.target().equals(sha))
                .map(Ref::name).collect(Collectors.toSet());
        CheckpointOrigin origin = CheckpointOrigin.of(commit, tags).orElseThrow(() -> new IllegalArgumentException(
                at + " is not a checkpoint the trainer committed: its message has no Step trailer and no step-N tag names it"));
        // The trainer commits a flat folder; anything else in the repository (.gitattributes, folders) is not the checkpoint's.
        List<FileEntry> files = hub.files(ref.repo(), sha).stream()
                .filter(f -> !f.path().contains("/") && !f.path().startsWith(".") && !f.path().equals(CheckpointStore.COMPLETE)).toList();
        Set<String> held = files.stream().map(FileEntry::path).collect(Collectors.toSet());
        List<String> missing = NEEDED.stream().filter(name -> !held.contains(name)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("cannot resume from " + at + ", step " + origin.step() + ": it holds no " + String.join(", ", missing)
                    + (HubCheckpoints.RESUME_ONLY.containsAll(missing)
                    ? ". Its run committed the model alone (hub_strategy every_save); train with --hub-strategy checkpoint to resume"
                    + " from the hub, or resume on the machine that holds the run folder"
                    : "; it is not a training checkpoint"));
        }
        return new HubResume(ref.repo(), sha, origin, files);
    }

    /**
     * The run's name by the trainer's naming of its repository, {@code {project}/{project}-{run name}}; the repository's
     * name when it was named otherwise.
     */
    String runName() {
        String prefix = repo.namespace() + "-";
        return repo.name().startsWith(prefix) && repo.name().length() > prefix.length() ? repo.name().substring(prefix.length()) : repo.name();
    }

    int step() {
        return Math.toIntExact(origin.step());
    }

    Optional<String> trackedRunId() {
        return Optional.ofNullable(origin.runId());
    }

    /** {@code repo@sha}, as a tracked run's config records where it was resumed from. */
    String label() {
        return repo + "@" + sha;
    }

    /**
     * The commit as the run folder's {@code checkpoint-N}, downloaded into a folder of its own and moved in whole; the
     * folder's own copy when it already has that step (the run stopped on this machine).
     */
    Checkpoint installInto(Path runDir, HubClient hub, TransferProgress transfer) throws IOException {
        CheckpointStore store = new CheckpointStore(runDir);
        Optional<Checkpoint> here = store.list().stream().filter(c -> c.step() == step()).findFirst();
        if (here.isPresent()) return here.get();
        List<String> names = files.stream().map(FileEntry::path).toList();
        return store.write(step(), List.of(new CheckpointPart(names, folder -> hub.download(repo, sha, files, f -> folder.resolve(f.path()), transfer))));
    }
}
