package dev.pricer.eval.checkpoint;

import dev.pricer.hub.RepoId;

import java.nio.file.Path;

/** A revision of a model repository, downloaded: its commit, its training step (-1 when unknown) and its files. */
public record Checkpoint(RepoId repo, String sha, long step, Path dir) {

    public String label() {
        return repo + "@" + sha.substring(0, 7) + (step >= 0 ? " (step " + step + ")" : "");
    }
}
