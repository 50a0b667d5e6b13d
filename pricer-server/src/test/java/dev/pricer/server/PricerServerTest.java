package dev.pricer.server;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PricerServerTest {

    @Test
    void modulesAddTheirRoutes() throws Exception {
        ServerModule hello = config -> config.routes.get("/hello", ctx -> ctx.result("hi"));
        try (PricerServer server = PricerServer.start("127.0.0.1", 0, List.of(hello));
             HttpClient http = HttpClient.newHttpClient()) {
            String base = "http://127.0.0.1:" + server.port();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/api/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertTrue(health.body().contains("ok"));
            HttpResponse<String> hi = http.send(HttpRequest.newBuilder(URI.create(base + "/hello")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals("hi", hi.body());
        }
    }

    @Test
    void aPortInUseIsNamedInTheError() {
        try (PricerServer first = PricerServer.start("127.0.0.1", 0, List.of())) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> PricerServer.start("127.0.0.1", first.port(), List.of()));
            assertTrue(e.getMessage().contains("127.0.0.1:" + first.port()) && e.getMessage().contains("in use") && e.getMessage().contains("--port"),
                    e.getMessage());
        }
    }
}
