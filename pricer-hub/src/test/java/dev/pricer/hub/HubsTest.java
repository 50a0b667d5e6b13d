package dev.pricer.hub;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which hub the environment selects: asked over HTTP of two recording servers, or the local store. */
class HubsTest {

    private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(s -> s.stop(0));
    }

    /** A server that answers every request 404 and records "name path token". */
    private String server(String name) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            requests.add(name + " " + exchange.getRequestURI().getPath() + " " + exchange.getRequestHeaders().getFirst("Authorization"));
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        server.start();
        servers.add(server);
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void ask(Map<String, String> env) {
        try (HubClient hub = Hubs.fromEnvironment(env)) {
            hub.repoInfo(RepoId.model("alice/prices"));
        } catch (HubException expected) {
            // the recording server answers 404 to everything; what matters is which server was asked
        }
    }

    @Test
    void theTrackingServerServesTheHubWhenNoHubUrlIsSet(@TempDir Path home) throws IOException {
        ask(Map.of("PRICER_SERVER", server("tracking"), "PRICER_TOKEN", "pt_secret", "PRICER_HOME", home.toString()));
        assertEquals(1, requests.size(), requests.toString());
        assertTrue(requests.getFirst().startsWith("tracking /api/models/alice/prices"), requests.toString());
        assertTrue(requests.getFirst().endsWith("Bearer pt_secret"), requests.toString());
    }

    @Test
    void aHubUrlWinsOverTheTrackingServer(@TempDir Path home) throws IOException {
        ask(Map.of("PRICER_SERVER", server("tracking"), "PRICER_HUB_URL", server("hub"), "PRICER_HOME", home.toString()));
        assertEquals(1, requests.size(), requests.toString());
        assertTrue(requests.getFirst().startsWith("hub /api/models/alice/prices"), requests.toString());
    }

    @Test
    void withNeitherTheHubIsTheLocalStore(@TempDir Path home) {
        try (HubClient hub = Hubs.fromEnvironment(Map.of("PRICER_HOME", home.toString(), "PRICER_SERVER", " "))) {
            assertInstanceOf(LocalHub.class, hub);
        }
    }
}
