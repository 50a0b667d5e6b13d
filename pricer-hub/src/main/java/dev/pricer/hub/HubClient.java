package dev.pricer.hub;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

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
    CommitInfo push(RepoId repo, Push push);

    /** Points tag {@code name} at the commit {@code revision} resolves to; {@link HubException.Conflict} when the tag exists. */
    void tag(RepoId repo, String name, String revision);

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
    Path download(RepoId repo, String revision, String path, Path target);

    /** Writes every file at a revision under {@code dir}, returning the commit sha it resolved to. */
    default String snapshot(RepoId repo, String revision, Path dir) {
        return snapshot(repo, revision, dir, line -> { });
    }

    /**
     * As {@link #snapshot(RepoId, String, Path)}, telling {@code progress} of each file as it starts ("[2/7]
     * model-00002-of-00004.safetensors (5.00 GB)"): a model's snapshot can take minutes.
     */
    default String snapshot(RepoId repo, String revision, Path dir, Consumer<String> progress) {
        String sha = resolve(repo, revision);
        List<FileEntry> files = files(repo, sha);
        for (int i = 0; i < files.size(); i++) {
            FileEntry file = files.get(i);
            progress.accept(file.progressLine(i, files.size()));
            download(repo, sha, file.path(), dir.resolve(file.path()));
        }
        return sha;
    }

    @Override
    void close();
}
