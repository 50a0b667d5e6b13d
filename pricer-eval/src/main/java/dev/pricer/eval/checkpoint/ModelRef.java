package dev.pricer.eval.checkpoint;

import dev.pricer.hub.RepoId;

/** {@code namespace/name[@revision]}: a model repository and a revision in it (a sha, a branch or a tag; default {@code main}). */
public record ModelRef(RepoId repo, String revision) {

    public static final String DEFAULT_REVISION = "main";

    public static ModelRef parse(String text) {
        int at = text.indexOf('@');
        if (at < 0) return new ModelRef(RepoId.model(text), DEFAULT_REVISION);
        String revision = text.substring(at + 1);
        if (revision.isEmpty()) throw new IllegalArgumentException("model '" + text + "' has an empty revision after '@'");
        return new ModelRef(RepoId.model(text.substring(0, at)), revision);
    }

    @Override
    public String toString() {
        return repo + "@" + revision;
    }
}
