package dev.pricer.server.hub;

import dev.pricer.hub.Hubs;
import dev.pricer.server.PricerServer;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The hub server alone, for {@code pricer-server/bench/hub-transfer.sh}: store folder and port from the arguments, token hf_bench for user bench. */
public final class HubBenchServer {

    public static void main(String[] args) throws InterruptedException {
        HubAccess access = HubAccess.of(Map.of("hf_bench", new HubAccess.Caller("bench", Set.of())));
        HubModule hub = new HubModule(Hubs.local(Path.of(args[0])), access, HubLimits.DEFAULT);
        try (PricerServer server = PricerServer.start("127.0.0.1", Integer.parseInt(args[1]), List.of(hub))) {
            System.out.println("listening on " + server.port());
            System.out.flush();
            Thread.currentThread().join();
        }
    }
}
