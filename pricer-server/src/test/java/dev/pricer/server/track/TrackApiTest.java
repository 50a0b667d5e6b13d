package dev.pricer.server.track;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pricer.track.Run;
import dev.pricer.track.RunSpec;
import dev.pricer.track.Tracker;
import dev.pricer.track.TrackerOptions;
import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunStatus;
import dev.pricer.track.remote.TrackClient;
import dev.pricer.track.store.NoSuchRunException;
import dev.pricer.track.store.Tokens;
import dev.pricer.track.store.TrackStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrackApiTest {

    @TempDir
    Path dir;

    private static Tracker tracker(Path home, TrackServerFixture fixture, String token) {
        return Tracker.open(TrackerOptions.local(home).withServer(fixture.uri()).withToken(token).withSystemMetricsEvery(Duration.ZERO));
    }

    @Test
    void aTrackerStreamsItsRunToTheServer() throws Exception {
        try (TrackServerFixture fixture = new TrackServerFixture(dir.resolve("server"))) {
            String id;
            try (Tracker tracker = tracker(dir.resolve("client"), fixture, null)) {
                Run run = tracker.start(RunSpec.of("pricer").withConfig(Map.of("lr", 1e-4)).withTags(List.of("qlora")));
                id = run.id();
                for (int step = 1; step <= 500; step++) run.log(step, Map.of("train/loss", 2.0 / step, "train/epoch", step / 250.0));
                run.finish();
            }
            JsonNode run = fixture.json("/api/track/runs/" + id);
            assertEquals("finished", run.get("status").asText());
            assertEquals("1.0E-4", run.get("config").get("lr").asText());
            assertEquals(1000, fixture.store.countPoints(id));
            JsonNode series = fixture.json("/api/track/series?run=" + id + "&key=train/loss&buckets=100");
            assertEquals(1, series.size());
            assertEquals(100, series.get(0).get("step").size());
            assertTrue(series.get(0).get("downsampled").asBoolean());
            JsonNode zoomed = fixture.json("/api/track/series?run=" + id + "&key=train/loss&buckets=100&from=10&to=59");
            assertEquals(50, zoomed.get(0).get("step").size());
            assertEquals(10, zoomed.get(0).get("step").get(0).asLong());
            JsonNode runs = fixture.json("/api/track/projects/pricer/runs?tag=qlora&sort=metric.train/loss&order=asc");
            assertEquals(id, runs.get(0).get("id").asText());
            String csv = fixture.send("GET", "/api/track/metrics.csv?run=" + id + "&key=train/loss", null).body();
            assertEquals(501, csv.lines().count());
            assertTrue(csv.lines().skip(1).findFirst().orElseThrow().contains(",train/loss,0,1,"));
        }
    }

    /**
     * A run stopped on one machine continues on another (a training run resumed elsewhere from its hub checkpoint):
     * the second machine copies the run's history from the server, so its points follow the first machine's, and the
     * steps it logs again start a new segment instead of colliding with the first machine's seqs.
     */
    @Test
    void aRunStoppedOnOneMachineContinuesOnAnother() throws Exception {
        try (TrackServerFixture fixture = new TrackServerFixture(dir.resolve("server"))) {
            String id;
            try (Tracker first = tracker(dir.resolve("first"), fixture, null)) {
                Run run = first.start(RunSpec.of("pricer").withName("moving"));
                id = run.id();
                for (int step = 1; step <= 6; step++) run.log(step, Map.of("train/loss", 1.0 / step, "train/learning_rate", Double.NaN));
            }
            try (Tracker second = tracker(dir.resolve("second"), fixture, null)) {
                Run run = second.resume(id);
                assertEquals("moving", run.name());
                assertEquals(12, second.store().countPoints(id), "the history came along");
                for (int step = 5; step <= 8; step++) run.log(step, Map.of("train/loss", 10.0 + step));
                run.finish();
            }
            JsonNode run = fixture.json("/api/track/runs/" + id);
            assertEquals("finished", run.get("status").asText());
            List<Point> loss = fixture.store.fullHistory(id, "train/loss");
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 5L, 6L, 7L, 8L), loss.stream().map(Point::step).toList());
            assertEquals(List.of(0, 0, 0, 0, 0, 0, 1, 1, 1, 1), loss.stream().map(Point::segment).toList());
            assertEquals(15.0, loss.get(6).value());
            assertTrue(loss.get(6).seq() > fixture.store.fullHistory(id, "train/learning_rate").getLast().seq(), "numbered after the first machine's");
            assertTrue(Double.isNaN(fixture.store.fullHistory(id, "train/learning_rate").get(0).value()));

            JsonNode page = fixture.json("/api/track/runs/" + id + "/points?after=3&limit=2");
            assertEquals(List.of(4L, 5L), java.util.stream.StreamSupport.stream(page.get("points").spliterator(), false)
                    .map(p -> p.get("seq").asLong()).toList());
            assertEquals(400, fixture.send("GET", "/api/track/runs/" + id + "/points?limit=0", null).statusCode());
            assertEquals(400, fixture.send("GET", "/api/track/runs/" + id + "/points?after=-1", null).statusCode());
            assertEquals(404, fixture.send("GET", "/api/track/runs/nope/points", null).statusCode());
            try (Tracker third = tracker(dir.resolve("third"), fixture, null)) {
                assertEquals("no run with id 'nope'", assertThrows(NoSuchRunException.class, () -> third.resume("nope")).getMessage());
            }
        }
    }

    @Test
    void nanAndInfinityTravelAndComeBackAsGaps() throws Exception {
        try (TrackServerFixture fixture = new TrackServerFixture(dir.resolve("server"))) {
            String id;
            try (Tracker tracker = tracker(dir.resolve("client"), fixture, null)) {
                Run run = tracker.start(RunSpec.of("p"));
                id = run.id();
                run.log(1, Map.of("loss", 1.0));
                run.log(2, Map.of("loss", Double.NaN));
                run.log(3, Map.of("loss", Double.POSITIVE_INFINITY));
                run.log(4, Map.of("loss", 0.5));
                run.finish();
            }
            assertEquals(Double.POSITIVE_INFINITY, fixture.store.history(id, "loss", 0, 10).get(2).value());
            assertTrue(Double.isNaN(fixture.store.history(id, "loss", 0, 10).get(1).value()));
            JsonNode last = fixture.json("/api/track/series?run=" + id + "&key=loss").get(0).get("last");
            assertEquals("[1.0,null,null,0.5]", last.toString());
        }
    }

    @Test
    void errorsAreJson() throws Exception {
        try (TrackServerFixture fixture = new TrackServerFixture(dir)) {
            HttpResponse<String> missing = fixture.send("GET", "/api/track/runs/nope", null);
            assertEquals(404, missing.statusCode());
            assertEquals("no run with id 'nope'", TrackClient.JSON.readTree(missing.body()).get("error").asText());
            HttpResponse<String> points = fixture.send("POST", "/api/track/runs/nope/points", "{\"points\":[]}");
            assertEquals(404, points.statusCode());
            assertTrue(TrackClient.JSON.readTree(points.body()).has("error"));
            HttpResponse<String> route = fixture.send("GET", "/api/track/nothing-here", null);
            assertEquals(404, route.statusCode());
            assertTrue(TrackClient.JSON.readTree(route.body()).get("error").asText().contains("/api/track/nothing-here"));

            String huge = "{\"points\":[" + "{\"seq\":1,\"key\":\"k\",\"segment\":0,\"step\":1,\"wallMs\":1,\"value\":1.0},".repeat(300_000) + "]}";
            HttpResponse<String> tooLarge = fixture.send("POST", "/api/track/runs/nope/points", huge);
            assertEquals(413, tooLarge.statusCode());
            assertTrue(TrackClient.JSON.readTree(tooLarge.body()).has("error"), tooLarge.body());

            HttpResponse<String> malformed = fixture.send("PUT", "/api/track/runs/x", "{\"id\": ");
            assertEquals(400, malformed.statusCode());
            assertTrue(TrackClient.JSON.readTree(malformed.body()).get("error").asText().contains("JSON"));
            HttpResponse<String> badBuckets = fixture.send("GET", "/api/track/series?run=x&key=k&buckets=0", null);
            assertEquals(400, badBuckets.statusCode());
        }
    }

    /** A client that sends no heartbeat with its run (the field is optional) has just shown it is alive. */
    @Test
    void aRunPutWithoutAHeartbeatReadsAsRunning() throws Exception {
        try (TrackServerFixture fixture = new TrackServerFixture(dir)) {
            String run = "{\"id\":\"r\",\"project\":\"p\",\"name\":\"n\",\"status\":\"running\",\"startedMs\":1}";
            assertEquals(200, fixture.send("PUT", "/api/track/runs/r", run).statusCode());
            assertEquals("running", TrackClient.JSON.readTree(fixture.send("GET", "/api/track/runs/r", null).body()).get("status").asText());
        }
    }

    /** A point missing a field, or with a fraction for a whole number, is refused by name, and nothing is stored. */
    @Test
    void pointsWithMissingOrFractionalFieldsAreRefused() throws Exception {
        try (TrackServerFixture fixture = new TrackServerFixture(dir)) {
            String run = "{\"id\":\"r\",\"project\":\"p\",\"name\":\"n\",\"status\":\"running\",\"startedMs\":1}";
            assertEquals(200, fixture.send("PUT", "/api/track/runs/r", run).statusCode());
            String good = "{\"seq\":1,\"key\":\"loss\",\"step\":1,\"wallMs\":1,\"value\":0.5}";
            for (String field : List.of("value", "step", "seq", "wallMs", "key")) {
                String without = good.replaceFirst("\"" + field + "\":[^,}]*,?", "").replace(",}", "}");
                HttpResponse<String> refused = fixture.send("POST", "/api/track/runs/r/points", "{\"points\":[" + good + "," + without + "]}");
                assertEquals(400, refused.statusCode(), without);
                assertTrue(TrackClient.JSON.readTree(refused.body()).get("error").asText().contains("point 2") , refused.body());
                assertTrue(refused.body().contains("'" + field + "'"), refused.body());
            }
            HttpResponse<String> fraction = fixture.send("POST", "/api/track/runs/r/points", "{\"points\":[" + good.replace("\"step\":1", "\"step\":1.5") + "]}");
            assertEquals(400, fraction.statusCode(), fraction.body());
            assertTrue(fixture.store.fullHistory("r", "loss").isEmpty());
            assertEquals(200, fixture.send("POST", "/api/track/runs/r/points", "{\"points\":[" + good + "]}").statusCode());
            assertEquals(1, fixture.store.fullHistory("r", "loss").size());
        }
    }

    @Test
    void namesWithQuotesHtmlAndSqlComeBackAsText() throws Exception {
        String name = "it's \"<script>alert(1)</script>\" '; DROP TABLE runs; --";
        try (TrackServerFixture fixture = new TrackServerFixture(dir.resolve("server"))) {
            String id;
            try (Tracker tracker = tracker(dir.resolve("client"), fixture, null)) {
                Run run = tracker.start(RunSpec.of(name).withName(name).withTags(List.of(name)).withConfig(Map.of(name, name)));
                id = run.id();
                run.log(1, Map.of(name, 1.0));
                run.finish();
            }
            JsonNode run = fixture.json("/api/track/runs/" + id);
            assertEquals(name, run.get("name").asText());
            assertEquals(name, run.get("project").asText());
            assertEquals(name, run.get("config").get(name).asText());
            String project = URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
            assertEquals(id, fixture.json("/api/track/projects/" + project + "/runs").get(0).get("id").asText());
            assertEquals(name, fixture.json("/api/track/runs/" + id + "/keys").get(0).asText());
            String renamed = name + " (renamed)";
            HttpResponse<String> patch = fixture.send("PATCH", "/api/track/runs/" + id,
                    TrackClient.JSON.writeValueAsString(Map.of("name", renamed)));
            assertEquals(200, patch.statusCode(), patch.body());
            assertEquals(renamed, fixture.store.requireRun(id).name());
            assertEquals(1, fixture.store.projects().size(), "the runs table survived");
        }
    }

    @Test
    void onceATokenExistsWritesNeedIt() throws Exception {
        Path serverHome = dir.resolve("server");
        try (TrackServerFixture fixture = new TrackServerFixture(serverHome)) {
            String body = "{\"id\":\"r1\",\"project\":\"p\",\"name\":\"n\",\"status\":\"running\",\"startedMs\":1,\"heartbeatMs\":1}";
            assertEquals(200, fixture.send("PUT", "/api/track/runs/r1", body).statusCode(), "open on loopback while no token exists");
            String token = Tokens.create(fixture.store, "ci", "ci", List.of("*")).secret();
            HttpResponse<String> anonymous = fixture.send("PUT", "/api/track/runs/r1", body);
            assertEquals(401, anonymous.statusCode());
            assertTrue(TrackClient.JSON.readTree(anonymous.body()).has("error"));
            assertEquals(401, fixture.send("PUT", "/api/track/runs/r1", body, "Authorization", "Bearer wrong").statusCode());
            assertEquals(401, fixture.send("POST", "/api/2.0/mlflow/runs/create", "{}").statusCode(), "the MLflow API too");
            assertEquals(200, fixture.send("PUT", "/api/track/runs/r1", body, "Authorization", "Bearer " + token).statusCode());
            assertEquals(200, fixture.send("GET", "/api/track/runs/r1", null).statusCode(), "reads stay open");
            String id;
            try (Tracker tracker = tracker(dir.resolve("client"), fixture, token)) {
                Run run = tracker.start(RunSpec.of("p"));
                id = run.id();
                run.log(1, Map.of("loss", 1.0));
                run.finish();
            }
            assertEquals(RunStatus.FINISHED, fixture.store.requireRun(id).status());

            assertEquals(401, fixture.send("DELETE", "/api/track/runs/" + id, null).statusCode(), "deleting is a write");
            String live = body.replace("\"heartbeatMs\":1", "\"heartbeatMs\":" + System.currentTimeMillis());
            assertEquals(200, fixture.send("PUT", "/api/track/runs/r1", live, "Authorization", "Bearer " + token).statusCode());
            assertEquals(409, fixture.send("DELETE", "/api/track/runs/r1", null, "Authorization", "Bearer " + token).statusCode(),
                    "r1 is still running");
            HttpResponse<String> deleted = fixture.send("DELETE", "/api/track/runs/" + id, null, "Authorization", "Bearer " + token);
            assertEquals(200, deleted.statusCode(), deleted.body());
            assertTrue(fixture.store.run(id).isEmpty());
            assertEquals(404, fixture.send("DELETE", "/api/track/runs/" + id, null, "Authorization", "Bearer " + token).statusCode());
        }
    }

    /** The watcher behind live updates polled the closed store twice a second, for as long as the process lived. */
    @Test
    void liveUpdatesStopWithTheServer() throws Exception {
        Set<Thread> before = liveUpdateThreads();
        Thread watcher;
        try (TrackServerFixture fixture = new TrackServerFixture(dir.resolve("live"));
             var events = new BufferedReader(new InputStreamReader(fixture.http.send(
                     HttpRequest.newBuilder(fixture.uri().resolve("/api/track/events")).header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofInputStream()).body()))) {
            assertEquals(": connected", events.readLine());
            Set<Thread> started = liveUpdateThreads();
            started.removeAll(before);
            // The comment goes out just before the watcher starts.
            for (long end = System.nanoTime() + 10_000_000_000L; started.isEmpty() && System.nanoTime() < end; Thread.sleep(10)) {
                started = liveUpdateThreads();
                started.removeAll(before);
            }
            assertEquals(1, started.size(), "a subscriber starts one watcher");
            watcher = started.iterator().next();
        }
        watcher.join(10_000);
        assertFalse(watcher.isAlive(), "the watcher ended when the server stopped");
    }

    private static Set<Thread> liveUpdateThreads() {
        Set<Thread> threads = new HashSet<>(Thread.getAllStackTraces().keySet());
        threads.removeIf(t -> !t.getName().equals("pricer-live-updates") || !t.isAlive());
        return threads;
    }

    @Test
    void theOpenApiDescriptionCoversTheRoutes() throws Exception {
        try (TrackServerFixture fixture = new TrackServerFixture(dir)) {
            JsonNode doc = fixture.json("/api/track/openapi.json");
            assertEquals("3.1.0", doc.get("openapi").asText());
            for (String path : List.of("/api/track/projects", "/api/track/projects/{project}/runs", "/api/track/runs/{id}",
                    "/api/track/runs/{id}/points", "/api/track/series", "/api/track/metrics.csv", "/api/track/events")) {
                assertTrue(doc.get("paths").has(path), path);
            }
        }
    }
}
