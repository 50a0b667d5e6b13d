package dev.pricer.cli.train;

import dev.pricer.hub.HubClient;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.RepoId;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Where a base model's files are: a local Hugging Face model folder as it is, or {@code hf:owner/name[@revision]}
 * downloaded once through the Hugging Face Hub HTTP protocol ({@code HF_ENDPOINT}, default huggingface.co, and
 * {@code HF_TOKEN}) into {@code PRICER_HOME/models/owner/name/<commit>}, which a later run reuses.
 */
public final class BaseModels {

    public static final String HF = "hf:";
    private static final String COMPLETE = ".complete";

    private BaseModels() {
    }

    public static Path resolve(String base, Path home, Map<String, String> env, Consumer<String> progress) throws IOException {
        if (!base.startsWith(HF)) {
            Path dir = Path.of(base);
            if (!Files.isDirectory(dir)) throw new IllegalArgumentException("--base " + base + ": no such model folder (or use hf:owner/name)");
            return dir;
        }
        String ref = base.substring(HF.length());
        int at = ref.indexOf('@');
        String name = at < 0 ? ref : ref.substring(0, at);
        String revision = at < 0 ? "main" : ref.substring(at + 1);
        RepoId repo = RepoId.model(name);
        try (HubClient hub = Hubs.huggingFace(env)) {
            String sha = hub.resolve(repo, revision);
            Path dir = home.resolve("models").resolve(repo.namespace()).resolve(repo.name()).resolve(sha);
            if (Files.exists(dir.resolve(COMPLETE))) return dir;
            progress.accept("downloading " + name + "@" + revision + " (" + sha.substring(0, 7) + ") from "
                    + env.getOrDefault("HF_ENDPOINT", "https://huggingface.co"));
            Files.createDirectories(dir);
            hub.snapshot(repo, sha, dir);
            Files.writeString(dir.resolve(COMPLETE), sha + "\n");
            return dir;
        }
    }
}
