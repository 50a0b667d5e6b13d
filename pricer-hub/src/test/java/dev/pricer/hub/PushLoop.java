package dev.pricer.hub;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/** Pushes a new 4 MB file to a local store forever, printing each commit; {@link KilledPushTest} kills it mid-push. */
public final class PushLoop {

    public static void main(String[] args) throws Exception {
        Path store = Path.of(args[0]);
        Path work = Files.createDirectories(Path.of(args[1]));
        RepoId repo = RepoId.model("alice/killed");
        try (LocalHub hub = new LocalHub(Hubs.local(store), "loop")) {
            hub.ensureRepo(repo, false);
            Random random = new Random(1);
            byte[] bytes = new byte[4 << 20];
            for (int i = 0; ; i++) {
                random.nextBytes(bytes);
                Path file = Files.write(work.resolve("w" + i), bytes);
                CommitInfo commit = hub.push(repo, Push.files(Map.of("weights.bin", file, "step.txt", Files.writeString(work.resolve("s" + i), "" + i)), "step " + i));
                System.out.println("committed " + commit.sha());
                System.out.flush();
                Files.delete(file);
            }
        }
    }
}
