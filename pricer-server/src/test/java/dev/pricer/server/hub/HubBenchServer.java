package dev.pricer.server.hub;

import dev.pricer.hub.Hubs;
import dev.pricer.server.Access;
import dev.pricer.server.PricerServer;
import dev.pricer.track.store.Tokens;
import dev.pricer.track.store.TrackStore;

import java.nio.file.Path;
import java.util.List;

/**
 * The hub server alone, for {@code pricer-server/bench/hub-transfer.sh}: store folder and port from the arguments,
 * token hf_bench for user bench (kept in a track store beside the hub's folder).
 */
public final class HubBenchServer {

    public static void main(String[] args) throws InterruptedException {
        Path dir = Path.of(args[0]);
        TrackStore tokens = TrackStore.openHome(dir.resolveSibling(dir.getFileName() + "-home"));
        Tokens.adopt(tokens, "hf_bench", "bench", "bench", List.of("bench"));
        HubModule hub = new HubModule(Hubs.local(dir), new Access(tokens, false), HubLimits.DEFAULT);
        try (PricerServer server = PricerServer.start("127.0.0.1", Integer.parseInt(args[1]), List.of(hub))) {
            System.out.println("listening on " + server.port());
            System.out.flush();
            Thread.currentThread().join();
        }
    }
}
