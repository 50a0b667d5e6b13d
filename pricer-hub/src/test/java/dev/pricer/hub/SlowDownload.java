package dev.pricer.hub;

import java.nio.file.Path;

/** Downloads one file slowly, printing the bytes it has as they arrive; {@link KilledDownloadTest} kills it midway. */
public final class SlowDownload {

    public static void main(String[] args) throws Exception {
        try (LocalHub hub = new LocalHub(Hubs.local(Path.of(args[0])), "slow")) {
            long[] moved = {0};
            hub.download(RepoId.model(args[1]), args[2], args[3], Path.of(args[4]), bytes -> {
                moved[0] += bytes;
                System.out.println("moved " + moved[0]);
                System.out.flush();
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            System.out.println("done");
        }
    }
}
