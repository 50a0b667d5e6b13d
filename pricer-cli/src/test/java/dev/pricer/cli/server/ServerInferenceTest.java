package dev.pricer.cli.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.cli.PricerCommand;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.Push;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.store.HubStore;
import dev.pricer.server.Access;
import dev.pricer.server.PricerServer;
import dev.pricer.server.hub.HubLimits;
import dev.pricer.server.hub.HubModule;
import dev.pricer.server.hub.Predictions;
import dev.pricer.track.store.Tokens;
import dev.pricer.track.store.TrackStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code pricer server --inference}: an adapter repository prices texts at a revision, the price {@code pricer predict}
 * gives, with the base it names taken from the same hub.
 */
class ServerInferenceTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TEXT = "item 3 of 10 parts";

    @TempDir
    Path dir;

    private static int pricer(StringWriter out, String... args) {
        CommandLine cli = PricerCommand.create();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        assertEquals(0, code, err.toString());
        return code;
    }

    private static HttpResponse<String> post(ServerCommand.Running server, String path, String body, String... headers) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.server().port() + path))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
            if (headers.length > 0) request.headers(headers);
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
    }

    /** A home whose hub holds the tiny base (shop/tiny-base) and an adapter trained on it, p/p-tried. */
    private Path homeWithAnAdapter() throws Exception {
        Path fixture = Path.of(ServerInferenceTest.class.getResource("/hf-tiny-llama/tiny-llama/config.json").toURI()).getParent();
        Path base = Files.createDirectories(dir.resolve("tiny-llama"));
        Files.copy(fixture.resolve("config.json"), base.resolve("config.json"));
        Files.copy(fixture.resolve("model.safetensors"), base.resolve("model.safetensors"));
        Files.copy(Path.of(ServerInferenceTest.class.getResource("/tokenizers/byte-tokenizer.json").toURI()), base.resolve("tokenizer.json"));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 16; i++) lines.add("{\"text\":\"item " + i + " of " + (i * 7 % 11) + " parts\",\"price\":" + (3 + i * 13) + "}");
        Path data = Files.write(dir.resolve("items.jsonl"), lines);
        Path home = dir.resolve("home");
        try (LocalHub hub = new LocalHub(Hubs.local(home.resolve("hub")), "shop")) {
            hub.ensureRepo(RepoId.model("shop/tiny-base"), false);
            hub.push(RepoId.model("shop/tiny-base"), Push.directory(base, "tiny base"));
        }
        pricer(new StringWriter(), "train", "--base", "shop/tiny-base", "--data", data.toString(), "--home", home.toString(), "--project", "p",
                "--name", "tried", "--no-track", "--device", "cpu", "--max-steps", "2", "--save-steps", "2", "--per-device-train-batch-size", "2",
                "--validation-split-percentage", "0", "--lora-r", "4", "--learning-rate", "3e-3", "--lora-target-modules", "q_proj,v_proj");
        return home;
    }

    /** One request at a time holds the model; the next waits a while, then is told to try again rather than queue forever. */
    @Test
    void aBusyModelAnswers503AfterItsPatience() throws Exception {
        Path home = homeWithAnAdapter();
        CountDownLatch loading = new CountDownLatch(1), release = new CountDownLatch(1);
        Supplier<Backend> slow = () -> {
            loading.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new CpuBackend();
        };
        HubStore hub = Hubs.local(home.resolve("hub"));
        try (TrackStore tokens = TrackStore.openHome(home);
             Predictions predictions = new Predictions(hub, home.resolve("cache"), slow, Duration.ofMillis(300));
             PricerServer server = PricerServer.start("127.0.0.1", 0, List.of(new HubModule(hub, new Access(tokens, true), HubLimits.DEFAULT, predictions,
                     home.resolve("cache/viewer"))))) {
            String path = "http://127.0.0.1:" + server.port() + "/api/hub/predict/models/p/p-tried/main";
            var first = java.util.concurrent.CompletableFuture.supplyAsync(() -> send(path));
            assertTrue(loading.await(60, java.util.concurrent.TimeUnit.SECONDS), "the first request loads the base");
            HttpResponse<String> second = send(path);
            assertEquals(503, second.statusCode(), second.body());
            assertTrue(second.body().contains("the model is busy pricing other texts (waited 300 ms): try again shortly"), second.body());
            release.countDown();
            assertEquals(200, first.get(60, java.util.concurrent.TimeUnit.SECONDS).statusCode());
            assertEquals(200, send(path).statusCode(), "free again");
        } finally {
            hub.close();
        }
    }

    private static HttpResponse<String> send(String uri) {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create(uri)).POST(HttpRequest.BodyPublishers.ofString("{\"texts\": [\"" + TEXT + "\"]}"))
                    .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException | InterruptedException e) {
            throw new AssertionError("cannot reach " + uri + ": " + e, e);
        }
    }

    @Test
    void anAdapterRepositoryPricesTextsAsPricerPredictDoes() throws Exception {
        Path home = homeWithAnAdapter();
        StringWriter predicted = new StringWriter();
        pricer(predicted, "predict", "--model", "p/p-tried", "--hub-store", home.resolve("hub").toString(), "--home", home.toString(),
                "--device", "cpu", "--json", TEXT);
        double expected = JSON.readTree(predicted.toString()).get("predictions").get(0).get("price").asDouble();

        try (ServerCommand.Running server = ServerCommand.start("127.0.0.1", 0, home, false, CpuBackend::new)) {
            try (HttpClient http = HttpClient.newHttpClient()) {
                assertEquals("{\"enabled\":true}", http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.server().port()
                        + "/api/hub/inference")).build(), HttpResponse.BodyHandlers.ofString()).body());
            }
            HttpResponse<String> priced = post(server, "/api/hub/predict/models/p/p-tried/main", "{\"texts\": [\"" + TEXT + "\", \"item 9\"]}");
            assertEquals(200, priced.statusCode(), priced.body());
            JsonNode answer = JSON.readTree(priced.body());
            assertEquals(40, answer.get("sha").asText().length());
            assertEquals(TEXT, answer.get("predictions").get(0).get("text").asText());
            assertEquals(expected, answer.get("predictions").get(0).get("price").asDouble(), 1e-9, "what pricer predict says: " + priced.body());
            assertEquals(2, answer.get("predictions").size());

            HttpResponse<String> many = post(server, "/api/hub/predict/models/p/p-tried/main", "{\"texts\": [" + "\"a\",".repeat(8) + "\"a\"]}");
            assertEquals(400, many.statusCode());
            assertTrue(many.body().contains("give 1 to 8 texts, not 9"), many.body());
            HttpResponse<String> notAnAdapter = post(server, "/api/hub/predict/models/shop/tiny-base/main", "{\"texts\": [\"" + TEXT + "\"]}");
            assertEquals(400, notAnAdapter.statusCode());
            assertTrue(notAnAdapter.body().contains("has no adapter_config.json"), notAnAdapter.body());
            HttpResponse<String> shape = post(server, "/api/hub/predict/models/p/p-tried/main", "{\"text\": \"" + TEXT + "\"}");
            assertEquals(400, shape.statusCode());
            assertTrue(shape.body().contains("{\\\"texts\\\": [") , shape.body());
            assertEquals(404, post(server, "/api/hub/predict/models/p/p-nothing/main", "{\"texts\": [\"a\"]}").statusCode());
        }
        try (ServerCommand.Running server = ServerCommand.start("127.0.0.1", 0, home, false)) {
            HttpResponse<String> off = post(server, "/api/hub/predict/models/p/p-tried/main", "{\"texts\": [\"" + TEXT + "\"]}");
            assertEquals(501, off.statusCode());
            assertTrue(off.body().contains("--inference"), off.body());
        }
        String secret;
        try (TrackStore tokens = TrackStore.openHome(home)) {
            secret = Tokens.create(tokens, "ci", "shop", List.of("*")).secret();
        }
        try (ServerCommand.Running server = ServerCommand.start("127.0.0.1", 0, home, false, CpuBackend::new)) {
            String body = "{\"texts\": [\"" + TEXT + "\"]}";
            HttpResponse<String> anonymous = post(server, "/api/hub/predict/models/p/p-tried/main", body);
            assertEquals(401, anonymous.statusCode(), "once the server has tokens, a model's time is for their holders: " + anonymous.body());
            assertEquals(200, post(server, "/api/hub/predict/models/p/p-tried/main", body, "Authorization", "Bearer " + secret).statusCode());
        }
    }

    /** An adapter trained on a folder names that folder, which the server will not read: it says how to get there. */
    @Test
    void anAdapterOnAFolderBaseSaysToPushTheBase() throws Exception {
        Path fixture = Path.of(ServerInferenceTest.class.getResource("/hf-tiny-llama/tiny-llama/config.json").toURI()).getParent();
        Path base = Files.createDirectories(dir.resolve("folder-base"));
        for (String f : List.of("config.json", "model.safetensors")) Files.copy(fixture.resolve(f), base.resolve(f));
        Files.copy(Path.of(ServerInferenceTest.class.getResource("/tokenizers/byte-tokenizer.json").toURI()), base.resolve("tokenizer.json"));
        Path data = Files.write(dir.resolve("items.jsonl"), List.of("{\"text\":\"a lamp\",\"price\":12}", "{\"text\":\"a desk\",\"price\":120}"));
        Path home = dir.resolve("home");
        pricer(new StringWriter(), "train", "--base", base.toString(), "--data", data.toString(), "--home", home.toString(), "--project", "p",
                "--name", "folder", "--no-track", "--device", "cpu", "--max-steps", "1", "--save-steps", "1", "--per-device-train-batch-size", "2",
                "--validation-split-percentage", "0", "--lora-r", "4", "--lora-target-modules", "q_proj");
        try (ServerCommand.Running server = ServerCommand.start("127.0.0.1", 0, home, false, CpuBackend::new)) {
            HttpResponse<String> refused = post(server, "/api/hub/predict/models/p/p-folder/main", "{\"texts\": [\"a lamp\"]}");
            assertEquals(400, refused.statusCode());
            assertTrue(refused.body().contains("is not a repository name") && refused.body().contains("pricer train --base REPO"), refused.body());
        }
    }
}
