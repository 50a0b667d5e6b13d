package dev.pricer.cli.train;

import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.eval.checkpoint.Checkpoints;
import dev.pricer.eval.checkpoint.LocatedBase;
import dev.pricer.eval.checkpoint.PricingModel;
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
 * Where a base model's files are, and what an adapter trained on it records: a local Hugging Face model folder as it
 * is; {@code hf:owner/name[@revision]} downloaded once through the Hugging Face Hub HTTP protocol ({@code HF_ENDPOINT},
 * default huggingface.co, and {@code HF_TOKEN}) into {@code PRICER_HOME/models/owner/name/<commit>}, which a later run
 * reuses and which serves when the Hub cannot be reached; or {@code owner/name[@revision]}, a repository of Pricer's
 * hub (as {@code pricer eval} finds a base), else of the Hugging Face Hub.
 */
public final class BaseModels {

    public static final String HF = "hf:";
    private static final String COMPLETE = ".complete";

    private BaseModels() {
    }

    /**
     * The base model {@code base} names, {@code env} saying where the hubs are ({@code PRICER_HOME},
     * {@code PRICER_HUB_URL}, {@code HF_ENDPOINT}, ...); {@code note} hears where a download comes from and
     * {@code transfer} of each file.
     */
    public static LocatedBase resolve(String base, Path home, Map<String, String> env, Consumer<String> note, TransferProgress transfer) {
        if (base.startsWith(HF)) return huggingFace(base.substring(HF.length()), home, env, note, transfer);
        try (HubClient hub = Hubs.fromEnvironment(env)) {
            Checkpoints pricerHub = new Checkpoints(hub, home.resolve("cache"), transfer);
            return PricingModel.locateBase(base, pricerHub, name -> huggingFace(name, home, env, note, transfer));
        }
    }

    /**
     * {@code owner/name[@revision]} from the Hugging Face Hub, downloaded unless this commit is already here; an
     * adapter trained on it records the Hub's name and the commit, as PEFT writes them, so that it finds that very
     * base on any machine.
     */
    public static LocatedBase huggingFace(String reference, Path home, Map<String, String> env, Consumer<String> note, TransferProgress transfer) {
        HfBase hf = HfBase.parse(reference);
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
                return new LocatedBase(cached, new BaseModelRef(name, cached.getFileName().toString()));
            }
            Path dir = repoDir.resolve(sha);
            if (!Files.exists(dir.resolve(COMPLETE))) {
                note.accept("downloading " + name + "@" + revision + " (" + sha.substring(0, 7) + ") from " + endpoint);
                Files.createDirectories(dir);
                hub.snapshot(repo, sha, dir, transfer);
                Files.writeString(dir.resolve(COMPLETE), sha + "\n");
            }
            return new LocatedBase(dir, new BaseModelRef(name, sha));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fetch the base model " + name + " into " + repoDir + ": " + e.getMessage(), e);
        }
    }

    /** {@code owner/name[@revision]}, the revision main when none is given. */
    private record HfBase(String name, String revision) {
        static HfBase parse(String ref) {
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
