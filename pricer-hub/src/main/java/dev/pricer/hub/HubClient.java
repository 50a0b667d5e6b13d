package dev.pricer.hub;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.LongConsumer;

/**
 * What the trainer, the evaluator and the CLI do with a hub, local ({@link Hubs#local}) or remote over the
 * Hugging Face protocol ({@link Hubs#remote}). A revision is a full commit sha, a prefix of it of at least 7
 * characters, a branch or a tag. Failures are {@link HubException}s.
 */
public interface HubClient extends AutoCloseable {

    /** Creates an empty repository; {@link HubException.Conflict} when it exists. */
    RepoInfo createRepo(RepoId repo, boolean isPrivate);

    /** The repository, creating it (with {@code isPrivate}) when it does not exist yet. */
    default RepoInfo ensureRepo(RepoId repo, boolean isPrivate) {
        return repoInfo(repo).orElseGet(() -> {
            try {
                return createRepo(repo, isPrivate);
            } catch (HubException.Conflict raced) {
                return repoInfo(repo).orElseThrow(() -> raced);
            }
        });
    }

    Optional<RepoInfo> repoInfo(RepoId repo);

    /** The repositories of a type this client may see. */
    List<RepoInfo> listRepos(RepoType type);

    /** Makes one commit; {@link HubException.Conflict} when the branch moved meanwhile (nothing is lost: retry). */
    default CommitInfo push(RepoId repo, Push push) {
        return push(repo, push, TransferProgress.NONE);
    }

    /** As {@link #push(RepoId, Push)}, telling {@code progress} of each file's upload. */
    CommitInfo push(RepoId repo, Push push, TransferProgress progress);

    /** Points tag {@code name} at the commit {@code revision} resolves to; {@link HubException.Conflict} when the tag exists. */
    void tag(RepoId repo, String name, String revision);

    /** Makes the repository private (readable by members of its namespace only) or public. */
    RepoInfo setPrivate(RepoId repo, boolean isPrivate);

    /** Deletes the repository, its commits and refs, for good; {@link HubException.NotFound} when there is none. */
    void deleteRepo(RepoId repo);

    /** Points a new branch {@code name} at the commit {@code revision} resolves to; {@link HubException.Conflict} when it exists. */
    void createBranch(RepoId repo, String name, String revision);

    /** Deletes a branch other than main; its commits stay reachable from other refs or go at the next gc. */
    void deleteBranch(RepoId repo, String name);

    void deleteTag(RepoId repo, String name);

    /** The full commit sha a revision names. */
    String resolve(RepoId repo, String revision);

    /** Every file of the commit {@code revision} names, sorted by path. */
    List<FileEntry> files(RepoId repo, String revision);

    /** Commits from {@code revision} back through its parents, newest first, at most {@code limit}. */
    List<CommitInfo> log(RepoId repo, String revision, int limit);

    List<Ref> refs(RepoId repo);

    /** Streams one file's bytes at a revision; the caller closes the stream. */
    InputStream open(RepoId repo, String revision, String path);

    /** Writes one file at a revision to {@code target} (atomically, checking its sha256) and returns {@code target}. */
    default Path download(RepoId repo, String revision, String path, Path target) {
        return download(repo, revision, path, target, bytes -> { });
    }

    /** As {@link #download(RepoId, String, String, Path)}, telling {@code moved} of the bytes as they arrive. */
    Path download(RepoId repo, String revision, String path, Path target, LongConsumer moved);

    /** Writes every file at a revision under {@code dir}, returning the commit sha it resolved to. */
    default String snapshot(RepoId repo, String revision, Path dir) {
        return snapshot(repo, revision, dir, TransferProgress.NONE);
    }

    /** As {@link #snapshot(RepoId, String, Path)}, telling {@code progress} of each file: a model's snapshot can take minutes. */
    default String snapshot(RepoId repo, String revision, Path dir, TransferProgress progress) {
        String sha = resolve(repo, revision);
        download(repo, sha, files(repo, sha), file -> dir.resolve(file.path()), progress);
        return sha;
    }

    /**
     * Writes each of {@code files}, listed at commit {@code sha}, to its {@code targetOf}, telling {@code progress}. A
     * target that already holds its file (size and sha256) is kept, so a snapshot cut off after some of its files goes on
     * with the rest; a file cut off in the middle resumes ({@link CheckedDownload}).
     */
    default void download(RepoId repo, String sha, List<FileEntry> files, Function<FileEntry, Path> targetOf, TransferProgress progress) {
        for (int i = 0; i < files.size(); i++) {
            FileEntry file = files.get(i);
            Path target = targetOf.apply(file);
            progress.started(file, i, files.size());
            try {
                if (CheckedDownload.holds(target, file)) progress.moved(file.size());
                else download(repo, sha, file.path(), target, progress::moved);
            } catch (IOException e) {
                throw new HubException.Failure("cannot read " + target + " to see whether it holds " + file.path() + ": " + e.getMessage(), e);
            }
            progress.finished(file);
        }
    }

    @Override
    void close();
}
