package dev.pricer.track.remote;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunInfo;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The tracking API of a Pricer server, as a client sees it (the server side is in pricer-server). */
public final class TrackClient implements AutoCloseable {

    /** The JSON both sides use: NaN and infinities travel as the strings "NaN", "Infinity", "-Infinity". */
    public static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private final URI server;
    private final String token;
    private final HttpClient http;

    public TrackClient(URI server, String token) {
        this.server = URI.create(server.toString().replaceAll("/+$", "") + "/");
        this.token = token;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    }

    public URI server() {
        return server;
    }

    /** Creates the run on the server, or updates its name, status, notes, tags and config. */
    public void putRun(RunInfo run) throws IOException {
        send("PUT", "api/track/runs/" + encode(run.id()), run);
    }

    /** Deletes a run that is not running; {@link NotFound} when the server has no such run. */
    public void deleteRun(String runId) throws IOException {
        send("DELETE", "api/track/runs/" + encode(runId), null);
    }

    /** Appends points; points the server already has are ignored. */
    public void append(String runId, List<Point> points) throws IOException {
        send("POST", "api/track/runs/" + encode(runId) + "/points", Map.of("points", points));
    }

    /** A run's points after seq {@code afterSeq}, in seq order, at most {@code limit}. */
    public List<Point> points(String runId, long afterSeq, int limit) throws IOException {
        String body = send("GET", "api/track/runs/" + encode(runId) + "/points?after=" + afterSeq + "&limit=" + limit, null);
        return JSON.readValue(body, PointsBody.class).points();
    }

    private record PointsBody(List<Point> points) {
    }

    /** Throws {@link NotFound} when the server has no run {@code runId}. */
    public RunInfo run(String runId) throws IOException {
        return JSON.readValue(send("GET", "api/track/runs/" + encode(runId), null), RunInfo.class);
    }

    public List<RunInfo> runs(String project) throws IOException {
        return JSON.readValue(send("GET", "api/track/projects/" + encode(project) + "/runs", null), new TypeReference<>() {
        });
    }

    private String send(String method, String path, Object body) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.resolve(path)).timeout(Duration.ofSeconds(30))
                .header("Accept", "application/json");
        if (token != null && !token.isBlank()) request.header("Authorization", "Bearer " + token);
        if (body == null) request.method(method, HttpRequest.BodyPublishers.noBody());
        else request.header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while calling " + server, e);
        } catch (IOException e) {
            // A refused connection comes without a message; say which server and what happened.
            throw new IOException("cannot reach " + server + ": " + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()), e);
        }
        if (response.statusCode() == 404) throw new NotFound(method + " " + server.resolve(path) + " answered 404: " + response.body());
        if (response.statusCode() / 100 != 2) {
            throw new IOException(method + " " + server.resolve(path) + " answered " + response.statusCode() + ": " + response.body());
        }
        return response.body();
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** The server answered that what was asked for is not there (404). */
    public static final class NotFound extends IOException {
        NotFound(String message) {
            super(message);
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
