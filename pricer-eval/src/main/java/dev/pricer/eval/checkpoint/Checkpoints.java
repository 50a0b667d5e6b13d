package dev.pricer.eval.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.HubException;
import dev.pricer.hub.Ref;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.TransferProgress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Checkpoints from a hub (local store or server), downloaded once into a cache keyed by commit sha: a commit
 * never changes, so a cached snapshot is reused as it is. A snapshot is downloaded beside its place and moved in
 * whole, so the cache never holds half a checkpoint.
 */
public final class Checkpoints {

    public static final String STEP_TAG = "step-";
    private static final int RECENT = 10;

    private final HubClient hub;
    private final Path cache;
    private final TransferProgress transfer;

    public Checkpoints(HubClient hub, Path cache) {
        this(hub, cache, TransferProgress.NONE);
    }

    /** Downloads tell {@code transfer} of each file: a base model kept in the hub takes minutes to fetch. */
    public Checkpoints(HubClient hub, Path cache, TransferProgress transfer) {
        this.hub = hub;
        this.cache = cache;
        this.transfer = transfer;
    }

    /** The revision's checkpoint, downloaded if not cached. An unknown revision's error lists the recent ones. */
    public Checkpoint fetch(ModelRef ref) {
        return fetch(ref.repo(), resolve(ref));
    }

    /** The commit the revision names; an unknown revision's error lists the recent ones. */
    public String resolve(ModelRef ref) {
        try {
            return hub.resolve(ref.repo(), ref.revision());
        } catch (HubException.NotFound e) {
            if (e.missing() != HubException.Missing.REVISION) throw e;
            throw new IllegalArgumentException("unknown revision '" + ref.revision() + "' of " + ref.repo() + "; recent revisions: "
                    + recentRevisions(ref.repo()), e);
        }
    }

    private Checkpoint fetch(RepoId repo, String sha) {
        Path dir = cache.resolve(repo.type().plural()).resolve(repo.namespace()).resolve(repo.name()).resolve(sha);
        if (!Files.isDirectory(dir)) download(repo, sha, dir);
        return new Checkpoint(repo, sha, step(repo, sha, dir), dir);
    }

    /** Every checkpoint the trainer tagged {@code step-N}, in step order. */
    public List<Checkpoint> all(RepoId repo) {
        List<Ref> steps = hub.refs(repo).stream().filter(r -> r.kind() == Ref.Kind.TAG && stepOf(r.name()) >= 0)
                .sorted(Comparator.comparingLong(r -> stepOf(r.name()))).toList();
        if (steps.isEmpty()) throw new IllegalArgumentException(repo + " has no checkpoints tagged step-N; recent revisions: " + recentRevisions(repo));
        List<Checkpoint> out = new ArrayList<>();
        for (Ref r : steps) out.add(fetch(repo, r.target()));
        return out;
    }

    /** The newest commits of the default branch and the tags, for error messages. */
    String recentRevisions(RepoId repo) {
        List<String> parts = new ArrayList<>();
        try {
            for (CommitInfo c : hub.log(repo, ModelRef.DEFAULT_REVISION, RECENT)) parts.add(c.sha().substring(0, 7) + " " + c.title());
        } catch (HubException.NotFound e) {
            parts.add("(no " + ModelRef.DEFAULT_REVISION + " branch)");
        }
        List<String> tags = hub.refs(repo).stream().filter(r -> r.kind() == Ref.Kind.TAG).map(Ref::name).sorted().toList();
        if (!tags.isEmpty()) parts.add("tags " + String.join(", ", tags));
        return parts.isEmpty() ? "none" : String.join("; ", parts);
    }

    private long step(RepoId repo, String sha, Path dir) {
        for (Ref r : hub.refs(repo)) if (r.kind() == Ref.Kind.TAG && r.target().equals(sha) && stepOf(r.name()) >= 0) return stepOf(r.name());
        Path state = dir.resolve("trainer_state.json");
        if (Files.isRegularFile(state)) {
            try {
                JsonNode step = new ObjectMapper().readTree(state.toFile()).get("global_step");
                if (step != null && step.canConvertToLong()) return step.asLong();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + state + ": " + e.getMessage(), e);
            }
        }
        return -1;
    }

    static long stepOf(String tag) {
        if (!tag.startsWith(STEP_TAG)) return -1;
        String digits = tag.substring(STEP_TAG.length());
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(Character::isDigit)) return -1;
        return Long.parseLong(digits);
    }

    /**
     * Downloads into a staging folder named by the commit beside {@code dir}, then moves it in whole. A download cut off
     * (a killed process) leaves the staging folder, and the next one goes on from what it holds ({@link HubClient#download}).
     * While another process downloads the same commit there, this one takes a folder of its own.
     */
    private void download(RepoId repo, String sha, Path dir) {
        try {
            Files.createDirectories(dir.getParent());
            Path staging = Files.createDirectories(dir.resolveSibling(".download-" + sha));
            try {
                hub.snapshot(repo, sha, staging, transfer);
            } catch (HubException.Conflict busy) {
                staging = Files.createTempDirectory(dir.getParent(), ".download-" + sha + "-");
                try {
                    hub.snapshot(repo, sha, staging, transfer);
                } catch (RuntimeException failed) {
                    deleteTree(staging);
                    throw failed;
                }
            }
            try {
                Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                // Another process cached the same commit first; its copy is identical.
                if (!Files.isDirectory(dir)) throw e;
                deleteTree(staging);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot cache " + repo + "@" + sha + " in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) Files.deleteIfExists(p);
        }
    }
}
