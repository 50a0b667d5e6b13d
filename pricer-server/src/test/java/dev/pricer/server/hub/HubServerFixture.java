package dev.pricer.server.hub;

import dev.pricer.hub.Hubs;
import dev.pricer.hub.store.HubStore;
import dev.pricer.server.PricerServer;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A server with only the hub module on a free port, over a store in {@code dir}: alice (also in team) and bob have tokens. */
final class HubServerFixture implements AutoCloseable {

    static final String ALICE = "hf_alice_token_0123456789";
    static final String BOB = "hf_bob_token_0123456789";

    final HubStore store;
    final PricerServer server;

    HubServerFixture(Path dir, HubLimits limits) {
        store = Hubs.local(dir);
        HubAccess access = HubAccess.of(Map.of(
            ALICE, new HubAccess.Caller("alice", Set.of("team")),
            BOB, new HubAccess.Caller("bob", Set.of())));
        server = PricerServer.start("127.0.0.1", 0, List.of(new HubModule(store, access, limits)));
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.port());
    }

    @Override
    public void close() {
        server.close();
        store.close();
    }
}
