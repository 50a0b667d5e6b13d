package dev.pricer.cli.train;

import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.HubException;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.TransferProgress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Where a base model's files are: a local Hugging Face model folder as it is, or {@code hf:owner/name[@revision]}
 * downloaded once through the Hugging Face Hub HTTP protocol ({@code HF_ENDPOINT}, default huggingface.co, and
 * {@code HF_TOKEN}) into {@code PRICER_HOME/models/owner/name/<commit>}, which a later run reuses, and which serves
 * when the Hub cannot be reached.
 */
public final class BaseModels {

    public static final String HF = "hf:";
    private static final String COMPLETE = ".complete";

    private BaseModels() {
    }

    /** The folder of {@code base}; where it goes to the Hub, {@code note} hears where from and {@code transfer} of each file. */
    public static Path resolve(String base, Path home, Map<String, String> env, Consumer<String> note, TransferProgress transfer) throws IOException {
        if (!base.startsWith(HF)) {
            Path dir = Path.of(base);
            if (!Files.isDirectory(dir)) throw new IllegalArgumentException("--base " + base + ": no such model folder (or use hf:owner/name)");
            return dir;
        }
        HfBase hf = HfBase.parse(base);
        String name = hf.name(), revision = hf.revision();
        RepoId repo = RepoId.model(name);
        Path repoDir = home.resolve("models").resolve(repo.namespace()).resolve(repo.name());
        String endpoint = env.getOrDefault("HF_ENDPOINT", "https://huggingface.co");
        try (HubClient hub = Hubs.huggingFace(env)) {
            String sha;
            try {
                sha = hub.resolve(repo, revision);
            } catch (HubException.Failure unreachable) {
                if (!(unreachable.getCause() instanceof IOException)) throw unreachable;
                // Offline: a snapshot downloaded before serves, as the Hub's own cache does.
                Path cached = cached(repoDir, revision).orElseThrow(() -> unreachable);
                note.accept("cannot reach " + endpoint + ": using " + name + " as downloaded before (" + cached.getFileName().toString().substring(0, 7) + ")");
                return cached;
            }
            Path dir = repoDir.resolve(sha);
            if (Files.exists(dir.resolve(COMPLETE))) return dir;
            note.accept("downloading " + name + "@" + revision + " (" + sha.substring(0, 7) + ") from " + endpoint);
            Files.createDirectories(dir);
            hub.snapshot(repo, sha, dir, transfer);
            Files.writeString(dir.resolve(COMPLETE), sha + "\n");
            return dir;
        }
    }

    /**
     * What an adapter trained on {@code base} (resolved to {@code resolved}) records as its base: for an {@code hf:}
     * base the Hub's {@code owner/name} and the commit it was downloaded at, as PEFT writes them, so that the adapter
     * finds that very base on any machine; a folder's absolute path otherwise.
     */
    public static BaseModelRef adapterBase(String base, Path resolved) {
        if (!base.startsWith(HF)) return BaseModelRef.of(resolved.toAbsolutePath().normalize().toString());
        return new BaseModelRef(HfBase.parse(base).name(), resolved.getFileName().toString());
    }

    /** {@code hf:owner/name[@revision]}, the revision main when none is given. */
    private record HfBase(String name, String revision) {
        static HfBase parse(String base) {
            String ref = base.substring(HF.length());
            int at = ref.indexOf('@');
            return at < 0 ? new HfBase(ref, "main") : new HfBase(ref.substring(0, at), ref.substring(at + 1));
        }
    }

    /** A complete snapshot of the repository here: the commit itself when {@code revision} is one, else the newest. */
    private static Optional<Path> cached(Path repoDir, String revision) throws IOException {
        if (revision.matches("[0-9a-f]{40}")) return Optional.of(repoDir.resolve(revision)).filter(dir -> Files.exists(dir.resolve(COMPLETE)));
        if (!Files.isDirectory(repoDir)) return Optional.empty();
        try (Stream<Path> snapshots = Files.list(repoDir)) {
            return snapshots.filter(dir -> Files.exists(dir.resolve(COMPLETE))).max(Comparator.comparing(BaseModels::completedAt));
        }
    }

    private static FileTime completedAt(Path snapshot) {
        try {
            return Files.getLastModifiedTime(snapshot.resolve(COMPLETE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + snapshot.resolve(COMPLETE) + ": " + e.getMessage(), e);
        }
    }
}
