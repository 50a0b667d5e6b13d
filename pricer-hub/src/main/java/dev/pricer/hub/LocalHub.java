package dev.pricer.hub;

import dev.pricer.hub.store.Blob;
import dev.pricer.hub.store.HubStore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongConsumer;

/** A {@link HubClient} over a {@link HubStore} in this process; commits carry {@code author}. */
public final class LocalHub implements HubClient {

    private final HubStore store;
    private final String author;

    public LocalHub(HubStore store, String author) {
        this.store = store;
        this.author = author;
    }

    public HubStore store() {
        return store;
    }

    @Override
    public RepoInfo createRepo(RepoId repo, boolean isPrivate) {
        return store.createRepo(repo, isPrivate);
    }

    @Override
    public Optional<RepoInfo> repoInfo(RepoId repo) {
        return store.repoInfo(repo);
    }

    @Override
    public List<RepoInfo> listRepos(RepoType type) {
        return store.listRepos(type);
    }

    @Override
    public CommitInfo push(RepoId repo, Push push, TransferProgress progress) {
        store.requireRepo(repo);
        Map<String, Blob> blobs = new LinkedHashMap<>();
        int index = 0;
        for (Map.Entry<String, Path> entry : push.files().entrySet()) {
            String path = entry.getKey();
            Path file = entry.getValue();
            try (InputStream in = Files.newInputStream(file)) {
                FileEntry started = new FileEntry(path, Files.size(file), null);
                progress.started(started, index++, push.files().size());
                blobs.put(path, store.ingest(new ReportingInputStream(in, progress::moved), null, -1, Long.MAX_VALUE));
                progress.finished(started);
            } catch (IOException e) {
                throw new HubException.Failure("cannot read " + file + " to push it as '" + path + "': " + e, e);
            }
        }
        return store.commit(repo, push.branch(), blobs, push.deletions(), push.message(), author, push.expectedHead());
    }

    @Override
    public void tag(RepoId repo, String name, String revision) {
        store.tag(repo, name, revision);
    }

    @Override
    public RepoInfo setPrivate(RepoId repo, boolean isPrivate) {
        return store.setPrivate(repo, isPrivate);
    }

    @Override
    public void deleteRepo(RepoId repo) {
        store.deleteRepo(repo);
    }

    @Override
    public void createBranch(RepoId repo, String name, String revision) {
        store.createBranch(repo, name, revision, false);
    }

    @Override
    public void deleteBranch(RepoId repo, String name) {
        store.deleteBranch(repo, name);
    }

    @Override
    public void deleteTag(RepoId repo, String name) {
        store.deleteTag(repo, name);
    }

    @Override
    public String resolve(RepoId repo, String revision) {
        return store.resolve(repo, revision);
    }

    @Override
    public List<FileEntry> files(RepoId repo, String revision) {
        return store.files(repo, store.resolve(repo, revision));
    }

    @Override
    public List<CommitInfo> log(RepoId repo, String revision, int limit) {
        return store.log(repo, store.resolve(repo, revision), 0, limit);
    }

    @Override
    public List<Ref> refs(RepoId repo) {
        return store.refs(repo);
    }

    @Override
    public InputStream open(RepoId repo, String revision, String path) {
        FileEntry entry = entry(repo, revision, path);
        return store.openBlob(entry.sha256(), 0, entry.size());
    }

    private FileEntry entry(RepoId repo, String revision, String path) {
        return store.file(repo, store.resolve(repo, revision), path).orElseThrow(() -> new HubException.NotFound(
            HubException.Missing.ENTRY, "'" + path + "' is not in " + repo.qualified() + "@" + revision));
    }

    @Override
    public Path download(RepoId repo, String revision, String path, Path target, LongConsumer moved) {
        FileEntry entry = entry(repo, revision, path);
        try {
            return CheckedDownload.write(target, kept -> {
                long from = kept <= entry.size() ? kept : 0;
                return new CheckedDownload.Source(store.openBlob(entry.sha256(), from, entry.size() - from), from, entry.size(), entry.sha256());
            }, moved);
        } catch (IOException e) {
            throw new HubException.Failure("cannot write " + target + ": " + e, e);
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
