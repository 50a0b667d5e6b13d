package dev.pricer.hub.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.FileEntry;
import dev.pricer.hub.HubException;
import dev.pricer.hub.HubPaths;
import dev.pricer.hub.Push;
import dev.pricer.hub.Ref;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.RepoInfo;
import dev.pricer.hub.RepoType;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The hub's data over an {@link ObjectStore}: repositories, their commits, trees and refs, and the blobs they
 * share. Layout: {@code blobs/<aa>/<sha256>} once for all repositories, and per repository
 * {@code repos/<models|datasets>/<namespace>/<name>/} with {@code repo.json}, {@code commits/<sha>},
 * {@code trees/<sha256>}, {@code refs/heads/<branch>} and {@code refs/tags/<tag>}.
 * A push stores its blobs, then its tree and commit, and last moves the branch by compare-and-set: a crash
 * before that leaves the branch where it was, and a push that lost a race fails with a conflict.
 */
public final class HubStore implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{7,40}");
    private static final int COPY_BUFFER = 1 << 16;

    private final ObjectStore objects;

    public HubStore(ObjectStore objects) {
        this.objects = objects;
    }

    public ObjectStore objects() {
        return objects;
    }

    // ---- repositories

    public RepoInfo createRepo(RepoId repo, boolean isPrivate) {
        byte[] meta = JSON.createObjectNode().put("private", isPrivate).put("created", Instant.now().toEpochMilli()).toString().getBytes(StandardCharsets.UTF_8);
        if (!io(() -> objects.compareAndSet(repoKey(repo) + "repo.json", null, meta))) {
            throw new HubException.Conflict("repository " + repo.qualified() + " already exists");
        }
        return repoInfo(repo).orElseThrow();
    }

    public Optional<RepoInfo> repoInfo(RepoId repo) {
        Optional<byte[]> meta = io(() -> objects.read(repoKey(repo) + "repo.json"));
        if (meta.isEmpty()) return Optional.empty();
        JsonNode node = io(() -> JSON.readTree(meta.get()));
        Instant created = Instant.ofEpochMilli(node.path("created").asLong());
        Optional<String> head = branch(repo, Push.MAIN);
        Instant modified = head.map(sha -> commit(repo, sha).time()).orElse(created);
        return Optional.of(new RepoInfo(repo, node.path("private").asBoolean(), created, head.orElse(null), modified));
    }

    /** Makes a repository private (readable by its namespace's members only) or public, as the Hub's settings do. */
    public RepoInfo setPrivate(RepoId repo, boolean isPrivate) {
        String key = repoKey(repo) + "repo.json";
        byte[] meta = io(() -> objects.read(key)).orElseThrow(() -> missingRepo(repo));
        JsonNode node = io(() -> JSON.readTree(meta));
        byte[] changed = JSON.createObjectNode().put("private", isPrivate).put("created", node.path("created").asLong()).toString()
            .getBytes(StandardCharsets.UTF_8);
        if (!io(() -> objects.compareAndSet(key, meta, changed))) {
            throw new HubException.Conflict("repository " + repo.qualified() + " changed or went while its settings were written; nothing was changed");
        }
        return repoInfo(repo).orElseThrow(() -> missingRepo(repo));
    }

    /**
     * Deletes a repository: its refs first, so that it reads as empty at once, then its commits, trees and upload marks,
     * and its {@code repo.json} last, so that a crash midway leaves an empty repository which deleting again finishes.
     * Blobs stay, since other repositories may share them: {@link #gc} frees those that no tree names any more.
     */
    public void deleteRepo(RepoId repo) {
        requireRepo(repo);
        String prefix = repoKey(repo), meta = prefix + "repo.json";
        deleteUnder(prefix + "refs/", meta);
        deleteUnder(prefix, meta);
        io(() -> { objects.delete(meta); return null; });
    }

    private void deleteUnder(String prefix, String except) {
        for (ObjectStore.Stat stat : io(() -> objects.list(prefix))) {
            if (!stat.key().equals(except)) io(() -> { objects.delete(stat.key()); return null; });
        }
    }

    public RepoInfo requireRepo(RepoId repo) {
        return repoInfo(repo).orElseThrow(() -> missingRepo(repo));
    }

    public List<RepoInfo> listRepos(RepoType type) {
        List<RepoInfo> repos = new ArrayList<>();
        for (ObjectStore.Stat stat : io(() -> objects.list("repos/" + type.plural() + "/"))) {
            String[] parts = stat.key().split("/");
            if (parts.length == 5 && parts[4].equals("repo.json")) {
                repoInfo(new RepoId(type, parts[2], parts[3])).ifPresent(repos::add);
            }
        }
        repos.sort(Comparator.comparing(RepoInfo::lastModified).reversed());
        return repos;
    }

    // ---- blobs

    /**
     * Stores a stream as a blob, checking it against the declared sha256 and size where given (null, -1: not
     * declared) and against {@code maxSize}. On any mismatch nothing is stored.
     */
    public Blob ingest(InputStream in, String expectedSha256, long expectedSize, long maxSize) {
        if (expectedSha256 != null) HubPaths.checkSha256(expectedSha256);
        if (expectedSize > maxSize) throw new HubException.TooLarge("declared size " + expectedSize + " is over the limit of " + maxSize + " bytes");
        return io(() -> {
            Path temp = Files.createTempFile(objects.stagingDir(), "blob-", ".tmp");
            try {
                MessageDigest digest = Hashing.sha256();
                long size = 0;
                try (OutputStream out = Files.newOutputStream(temp)) {
                    byte[] buffer = new byte[COPY_BUFFER];
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        size += n;
                        if (size > maxSize) throw new HubException.TooLarge("content is over the limit of " + maxSize + " bytes; nothing was stored");
                        if (expectedSize >= 0 && size > expectedSize) {
                            throw new HubException.Invalid("content is longer than its declared size " + expectedSize + "; nothing was stored");
                        }
                        digest.update(buffer, 0, n);
                        out.write(buffer, 0, n);
                    }
                }
                String sha = Hashing.hex(digest);
                if (expectedSize >= 0 && size != expectedSize) {
                    throw new HubException.Invalid("content has " + size + " bytes but its declared size is " + expectedSize + "; nothing was stored");
                }
                if (expectedSha256 != null && !sha.equals(expectedSha256)) {
                    throw new HubException.Invalid("content has sha256 " + sha + " but " + expectedSha256 + " was declared; nothing was stored");
                }
                objects.moveIn(temp, blobKey(sha));
                return new Blob(sha, size);
            } finally {
                Files.deleteIfExists(temp);
            }
        });
    }

    public Optional<Blob> blob(String sha256) {
        HubPaths.checkSha256(sha256);
        return io(() -> objects.stat(blobKey(sha256))).map(stat -> new Blob(sha256, stat.size()));
    }

    public InputStream openBlob(String sha256, long offset, long length) {
        HubPaths.checkSha256(sha256);
        return io(() -> objects.open(blobKey(sha256), offset, length));
    }

    /**
     * Records that {@code repo}'s writers sent the bytes of blob {@code sha256}. A commit may name a large file by
     * its sha256 alone only when this holds: else anyone who learnt a hash could take another repository's content.
     */
    public void markUploaded(RepoId repo, String sha256) {
        io(() -> { objects.write(repoKey(repo) + "uploads/" + HubPaths.checkSha256(sha256), new byte[0]); return null; });
    }

    public boolean isUploaded(RepoId repo, String sha256) {
        return io(() -> objects.stat(repoKey(repo) + "uploads/" + HubPaths.checkSha256(sha256))).isPresent() && blob(sha256).isPresent();
    }

    // ---- commits

    /**
     * Commits {@code additions} (path to a stored blob) and {@code deletions} on top of {@code branch}.
     * {@code expectedHead} null means the head read now; the branch moves only if it is still there.
     */
    public CommitInfo commit(RepoId repo, String branch, Map<String, Blob> additions, Set<String> deletions,
                             String message, String author, String expectedHead) {
        requireRepo(repo);
        HubPaths.checkRef(branch);
        Optional<String> current = branch(repo, branch);
        String parent = expectedHead != null ? expectedHead : current.orElse(null);
        if (expectedHead != null && !current.equals(Optional.of(expectedHead))) {
            throw conflict(repo, branch, expectedHead, current.orElse(null));
        }
        Map<String, FileEntry> files = new TreeMap<>();
        if (parent != null) files(repo, parent).forEach(file -> files.put(file.path(), file));
        for (String path : deletions) {
            if (files.remove(HubPaths.checkPath(path)) == null) {
                throw new HubException.Invalid("cannot delete '" + path + "': it is not in " + repo.qualified() + "@" + branch);
            }
        }
        for (Map.Entry<String, Blob> addition : additions.entrySet()) {
            Blob blob = addition.getValue();
            if (blob(blob.sha256()).filter(stored -> stored.size() == blob.size()).isEmpty()) {
                throw new HubException.Invalid("file '" + addition.getKey() + "': blob " + blob.sha256() + " of " + blob.size() + " bytes was not uploaded");
            }
            files.put(HubPaths.checkPath(addition.getKey()), new FileEntry(addition.getKey(), blob.size(), blob.sha256()));
        }
        TreeObject tree = TreeObject.of(files.values());
        String treeId = tree.id();
        io(() -> { objects.write(repoKey(repo) + "trees/" + treeId, tree.bytes()); return null; });
        CommitObject commit = new CommitObject(treeId, parent, author, Instant.now(), message);
        String sha = commit.sha();
        io(() -> { objects.write(repoKey(repo) + "commits/" + sha, commit.bytes()); return null; });
        byte[] expected = parent == null ? null : parent.getBytes(StandardCharsets.US_ASCII);
        if (!io(() -> objects.compareAndSet(refKey(repo, "heads", branch), expected, sha.getBytes(StandardCharsets.US_ASCII)))) {
            throw conflict(repo, branch, parent, branch(repo, branch).orElse(null));
        }
        return commit.info(sha);
    }

    private static HubException.Conflict conflict(RepoId repo, String branch, String expected, String actual) {
        return new HubException.Conflict("branch '" + branch + "' of " + repo.qualified() + " is at " + actual
            + ", not at " + expected + " as this push expected (another push landed first); nothing was changed: push again on top of it");
    }

    public CommitInfo commitInfo(RepoId repo, String sha) {
        return commit(repo, sha).info(sha);
    }

    private CommitObject commit(RepoId repo, String sha) {
        byte[] bytes = io(() -> objects.read(repoKey(repo) + "commits/" + sha))
            .orElseThrow(() -> new HubException.NotFound(HubException.Missing.REVISION, "commit " + sha + " is not in " + repo.qualified()));
        return CommitObject.parse(sha, bytes);
    }

    public List<FileEntry> files(RepoId repo, String sha) {
        String tree = commit(repo, sha).tree();
        byte[] bytes = io(() -> objects.read(repoKey(repo) + "trees/" + tree))
            .orElseThrow(() -> new HubException.Failure("tree " + tree + " of commit " + sha + " in " + repo.qualified() + " is missing", null));
        return TreeObject.parse(tree, bytes).files();
    }

    public Optional<FileEntry> file(RepoId repo, String sha, String path) {
        HubPaths.checkPath(path);
        return files(repo, sha).stream().filter(file -> file.path().equals(path)).findFirst();
    }

    /** Commits from {@code sha} back, newest first, skipping {@code skip} and returning at most {@code limit}. */
    public List<CommitInfo> log(RepoId repo, String sha, int skip, int limit) {
        List<CommitInfo> log = new ArrayList<>();
        String at = sha;
        for (int i = 0; at != null && log.size() < limit; i++) {
            CommitObject commit = commit(repo, at);
            if (i >= skip) log.add(commit.info(at));
            at = commit.parent();
        }
        return log;
    }

    /** What a commit changed against its parent, by path. */
    public List<Change> changes(RepoId repo, String sha) {
        CommitObject commit = commit(repo, sha);
        Map<String, FileEntry> before = new LinkedHashMap<>();
        if (commit.parent() != null) files(repo, commit.parent()).forEach(file -> before.put(file.path(), file));
        List<Change> changes = new ArrayList<>();
        for (FileEntry file : files(repo, sha)) {
            FileEntry old = before.remove(file.path());
            if (old == null) changes.add(new Change(file.path(), Change.Kind.ADDED, -1, file.size()));
            else if (!old.sha256().equals(file.sha256())) changes.add(new Change(file.path(), Change.Kind.CHANGED, old.size(), file.size()));
        }
        before.values().forEach(file -> changes.add(new Change(file.path(), Change.Kind.REMOVED, file.size(), -1)));
        changes.sort(Comparator.comparing(Change::path));
        return changes;
    }

    // ---- refs and revisions

    public Optional<String> branch(RepoId repo, String name) {
        return ref(repo, "heads", name);
    }

    private Optional<String> ref(RepoId repo, String kind, String name) {
        return io(() -> objects.read(refKey(repo, kind, HubPaths.checkRef(name)))).map(bytes -> new String(bytes, StandardCharsets.US_ASCII));
    }

    public List<Ref> refs(RepoId repo) {
        requireRepo(repo);
        List<Ref> refs = new ArrayList<>();
        for (ObjectStore.Stat stat : io(() -> objects.list(repoKey(repo) + "refs/"))) {
            String[] parts = stat.key().substring((repoKey(repo) + "refs/").length()).split("/");
            Ref.Kind kind = parts[0].equals("heads") ? Ref.Kind.BRANCH : Ref.Kind.TAG;
            ref(repo, parts[0], parts[1]).ifPresent(target -> refs.add(new Ref(kind, parts[1], target)));
        }
        refs.sort(Comparator.comparing(Ref::kind).thenComparing(Ref::name));
        return refs;
    }

    /** Points a new tag at a revision; a tag that exists is a conflict, since tags do not move. */
    public void tag(RepoId repo, String name, String revision) {
        String sha = resolve(repo, revision);
        if (!io(() -> objects.compareAndSet(refKey(repo, "tags", HubPaths.checkRef(name)), null, sha.getBytes(StandardCharsets.US_ASCII)))) {
            throw new HubException.Conflict("tag '" + name + "' of " + repo.qualified() + " exists already");
        }
    }

    /**
     * Points a new branch at a revision; a branch that exists is a conflict, unless {@code overwrite} (create_branch's
     * overwrite) moves it there.
     */
    public void createBranch(RepoId repo, String name, String revision, boolean overwrite) {
        String sha = resolve(repo, revision);
        String key = refKey(repo, "heads", HubPaths.checkRef(name));
        if (overwrite) {
            io(() -> { objects.write(key, sha.getBytes(StandardCharsets.US_ASCII)); return null; });
        } else if (!io(() -> objects.compareAndSet(key, null, sha.getBytes(StandardCharsets.US_ASCII)))) {
            throw new HubException.Conflict("branch '" + name + "' of " + repo.qualified() + " exists already");
        }
    }

    /** Deletes a branch, not {@value Push#MAIN}: the repository's default, which its page and downloads read. Its commits stay until gc. */
    public void deleteBranch(RepoId repo, String name) {
        if (name.equals(Push.MAIN)) throw new HubException.Invalid("branch '" + Push.MAIN + "' of " + repo.qualified() + " is the default branch and cannot be deleted");
        deleteRef(repo, "heads", name, "branch");
    }

    public void deleteTag(RepoId repo, String name) {
        deleteRef(repo, "tags", name, "tag");
    }

    private void deleteRef(RepoId repo, String kind, String name, String what) {
        requireRepo(repo);
        if (ref(repo, kind, name).isEmpty()) {
            throw new HubException.NotFound(HubException.Missing.REVISION, what + " '" + name + "' is not in " + repo.qualified());
        }
        io(() -> { objects.delete(refKey(repo, kind, name)); return null; });
    }

    /** A full sha, a unique prefix of at least 7 hex digits, a branch or a tag, to the commit's full sha. */
    public String resolve(RepoId repo, String revision) {
        requireRepo(repo);
        if (revision == null || revision.isEmpty()) throw new HubException.Invalid("revision is empty");
        boolean hex = HEX.matcher(revision).matches();
        if (hex && revision.length() == 40 && io(() -> objects.stat(repoKey(repo) + "commits/" + revision)).isPresent()) return revision;
        if (!revision.contains("/")) {
            try {
                Optional<String> named = branch(repo, revision).or(() -> ref(repo, "tags", revision));
                if (named.isPresent()) return named.get();
            } catch (HubException.Invalid notARefName) {
                // fall through: it can still not be a commit, and says so below
            }
        }
        if (hex) {
            List<String> matches = io(() -> objects.list(repoKey(repo) + "commits/" + revision)).stream()
                .map(stat -> stat.key().substring(stat.key().lastIndexOf('/') + 1)).toList();
            if (matches.size() == 1) return matches.getFirst();
            if (matches.size() > 1) throw new HubException.Invalid("revision '" + revision + "' is ambiguous: " + matches.size() + " commits start with it");
        }
        throw new HubException.NotFound(HubException.Missing.REVISION, "revision '" + revision + "' is not a branch, tag or commit of " + repo.qualified());
    }

    // ---- garbage collection

    /**
     * Removes commits and trees that no branch or tag reaches, and blobs that no remaining tree names, when older
     * than {@code grace}: a push in progress has stored its blobs but not yet moved its branch, and must keep them.
     */
    public GcReport gc(Duration grace) {
        Instant cutoff = Instant.now().minus(grace);
        Set<String> liveBlobs = new HashSet<>();
        int commitsRemoved = 0, treesRemoved = 0;
        for (RepoType type : RepoType.values()) {
            for (RepoInfo info : listRepos(type)) {
                RepoId repo = info.id();
                Set<String> liveCommits = new HashSet<>(), liveTrees = new HashSet<>();
                for (Ref ref : refs(repo)) {
                    for (String at = ref.target(); at != null && liveCommits.add(at); ) {
                        CommitObject commit = commit(repo, at);
                        liveTrees.add(commit.tree());
                        at = commit.parent();
                    }
                }
                for (String tree : liveTrees) {
                    byte[] bytes = io(() -> objects.read(repoKey(repo) + "trees/" + tree)).orElseThrow();
                    TreeObject.parse(tree, bytes).files().forEach(file -> liveBlobs.add(file.sha256()));
                }
                commitsRemoved += sweep(repoKey(repo) + "commits/", liveCommits, cutoff);
                treesRemoved += sweep(repoKey(repo) + "trees/", liveTrees, cutoff);
            }
        }
        int removed = 0, kept = 0;
        long bytes = 0;
        for (ObjectStore.Stat stat : io(() -> objects.list("blobs/"))) {
            String sha = stat.key().substring(stat.key().lastIndexOf('/') + 1);
            if (liveBlobs.contains(sha) || stat.modified().isAfter(cutoff)) {
                kept++;
            } else {
                io(() -> { objects.delete(stat.key()); return null; });
                removed++;
                bytes += stat.size();
            }
        }
        removeStaleStaging(cutoff);
        return new GcReport(removed, bytes, kept, commitsRemoved, treesRemoved);
    }

    /** Temporary files that a killed process left while receiving content. */
    private void removeStaleStaging(Instant cutoff) {
        io(() -> {
            try (var staged = Files.list(objects.stagingDir())) {
                for (Path file : (Iterable<Path>) staged::iterator) {
                    if (Files.getLastModifiedTime(file).toInstant().isBefore(cutoff)) Files.deleteIfExists(file);
                }
            }
            return null;
        });
    }

    private int sweep(String prefix, Set<String> live, Instant cutoff) {
        int removed = 0;
        for (ObjectStore.Stat stat : io(() -> objects.list(prefix))) {
            if (!live.contains(stat.key().substring(prefix.length())) && stat.modified().isBefore(cutoff)) {
                io(() -> { objects.delete(stat.key()); return null; });
                removed++;
            }
        }
        return removed;
    }

    // ---- keys

    private static String repoKey(RepoId repo) {
        return "repos/" + repo.type().plural() + "/" + repo.namespace() + "/" + repo.name() + "/";
    }

    private static String refKey(RepoId repo, String kind, String name) {
        return repoKey(repo) + "refs/" + kind + "/" + name;
    }

    private static String blobKey(String sha256) {
        return "blobs/" + sha256.substring(0, 2) + "/" + sha256;
    }

    public static HubException.NotFound missingRepo(RepoId repo) {
        return new HubException.NotFound(HubException.Missing.REPO, "repository " + repo.qualified() + " not found");
    }

    private interface IoAction<T> {
        T run() throws IOException;
    }

    private static <T> T io(IoAction<T> action) {
        try {
            return action.run();
        } catch (IOException e) {
            throw new HubException.Failure("hub storage failed: " + reason(e), e);
        } catch (UncheckedIOException e) {
            throw new HubException.Failure("hub storage failed: " + reason(e.getCause()), e);
        }
    }

    /** The failure in words, for a person: "/hub/blobs/ab: No space left on device", not the exception's class. */
    private static String reason(IOException e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    @Override
    public void close() {
        objects.close();
    }
}
