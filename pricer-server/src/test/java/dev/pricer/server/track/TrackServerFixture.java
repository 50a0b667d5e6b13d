package dev.pricer.server.track;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pricer.server.Access;
import dev.pricer.server.PricerServer;
import dev.pricer.server.ServerModule;
import dev.pricer.track.remote.TrackClient;
import dev.pricer.track.store.TrackStore;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A server with the tracking module over a store in a temporary folder, and a plain HTTP client. */
final class TrackServerFixture implements AutoCloseable {

    final TrackStore store;
    final PricerServer server;
    final HttpClient http = HttpClient.newHttpClient();

    /** Open to callers without a token while the store has none, as {@code pricer server} on loopback. */
    TrackServerFixture(Path home, ServerModule... extra) {
        store = TrackStore.openHome(home);
        List<ServerModule> modules = new ArrayList<>(List.of(extra));
        modules.add(new TrackModule(store, new Access(store, true)));
        server = PricerServer.start("127.0.0.1", 0, modules);
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.port());
    }

    HttpResponse<String> send(String method, String path, String body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri().resolve(path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) request.header("Content-Type", "application/json");
        if (headers.length > 0) request.headers(headers);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode json(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = send("GET", path, null);
        if (response.statusCode() != 200) throw new IOException(path + " answered " + response.statusCode() + ": " + response.body());
        return TrackClient.JSON.readTree(response.body());
    }

    @Override
    public void close() {
        server.close();
        http.close();
        store.close();
    }
}
