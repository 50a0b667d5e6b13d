package dev.pricer.cli.data;

import dev.pricer.cli.hub.HubCommand.RepoRef;
import dev.pricer.cli.train.BaseModels;
import dev.pricer.eval.checkpoint.Checkpoint;
import dev.pricer.eval.checkpoint.Checkpoints;
import dev.pricer.eval.checkpoint.ModelRef;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.TransferProgress;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Where a command's {@code --data} is, as {@code load_dataset} finds a dataset: a file or folder as it is;
 * {@code datasets/owner/name[@revision]}, a dataset repository of Pricer's hub ({@code PRICER_HUB_URL},
 * {@code PRICER_SERVER}, else the local store); or {@code hf:datasets/owner/name[@revision]} of the Hugging Face Hub
 * ({@code HF_ENDPOINT}, {@code HF_TOKEN}). A repository's revision is downloaded once, by commit, into
 * {@code PRICER_HOME/cache}, and read as a dataset folder (its {@code data/train-*.parquet}, ...).
 */
public final class HubDatasets {

    static final String PREFIX = "datasets/";

    private HubDatasets() {
    }

    /**
     * The data's folder or file, how a run's config records it ({@code datasets/owner/name@commit} for a repository),
     * and the repository's {@code owner/name} (null for a file or folder), as a model card's {@code datasets} names it.
     */
    public record Located(Path path, String label, String dataset) {
    }

    /** The leaderboard a dataset's results join by default: the folder's name, or the repository's {@code owner/name}. */
    public static String boardName(String data) {
        return repository(data).map(r -> r.ref().repo().toString()).orElseGet(() -> Path.of(data).toAbsolutePath().normalize().getFileName().toString());
    }

    /** {@code pricerHub} opens the command's own hub; {@code env} says where the Hugging Face Hub is. */
    public static Located locate(String data, Path home, Supplier<HubClient> pricerHub, Map<String, String> env, Consumer<String> note,
                                 TransferProgress transfer) {
        Optional<Repository> named = repository(data);
        if (named.isEmpty()) return new Located(Path.of(data), Path.of(data).toAbsolutePath().normalize().toString(), null);
        RepoRef ref = named.get().ref();
        try (HubClient hub = named.get().huggingFace() ? Hubs.huggingFace(env) : pricerHub.get()) {
            Checkpoint snapshot = new Checkpoints(hub, home.resolve("cache"), transfer).fetch(new ModelRef(ref.repo(), ref.revision()));
            String label = (named.get().huggingFace() ? BaseModels.HF : "") + ref.repo().qualified() + "@" + snapshot.sha();
            note.accept("dataset " + label + " in " + snapshot.dir());
            return new Located(snapshot.dir(), label, ref.repo().toString());
        }
    }

    /** A dataset repository, of the Hugging Face Hub or of Pricer's. */
    private record Repository(boolean huggingFace, RepoRef ref) {
    }

    /** The repository {@code data} names, unless it is a file or folder here. */
    private static Optional<Repository> repository(String data) {
        boolean huggingFace = data.startsWith(BaseModels.HF);
        String reference = huggingFace ? data.substring(BaseModels.HF.length()) : data;
        if (!reference.startsWith(PREFIX) || Files.exists(Path.of(data))) return Optional.empty();
        return Optional.of(new Repository(huggingFace, RepoRef.parse(reference)));
    }
}
