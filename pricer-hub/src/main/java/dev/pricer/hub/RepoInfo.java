package dev.pricer.hub;

import java.time.Instant;

/** A repository and where its default branch points; {@code head} is null while it has no commit. */
public record RepoInfo(RepoId id, boolean isPrivate, Instant created, String head, Instant lastModified) {
}
