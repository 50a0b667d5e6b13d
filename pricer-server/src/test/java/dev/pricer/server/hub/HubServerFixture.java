package dev.pricer.server.hub;

import dev.pricer.hub.Hubs;
import dev.pricer.hub.store.HubStore;
import dev.pricer.server.Access;
import dev.pricer.server.PricerServer;
import dev.pricer.track.store.Tokens;
import dev.pricer.track.store.TrackStore;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * A server with only the hub module on a free port, over a store in {@code dir}, and tokens in a track store
 * beside it: alice (also in team) and bob.
 */
final class HubServerFixture implements AutoCloseable {

    static final String ALICE = "hf_alice_token_0123456789";
    static final String BOB = "hf_bob_token_0123456789";

    final HubStore store;
    final TrackStore tokens;
    final PricerServer server;

    HubServerFixture(Path dir, HubLimits limits) {
        store = Hubs.local(dir);
        tokens = TrackStore.openHome(dir.resolveSibling(dir.getFileName() + "-home"));
        Tokens.adopt(tokens, ALICE, "alice", "alice", List.of("team"));
        Tokens.adopt(tokens, BOB, "bob", "bob", List.of("bob"));
        server = PricerServer.start("127.0.0.1", 0, List.of(new HubModule(store, new Access(tokens, false), limits)));
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.port());
    }

    @Override
    public void close() {
        server.close();
        store.close();
        tokens.close();
    }
}
