package dev.pricer.cli.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.Ref;
import dev.pricer.hub.RepoId;
import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunQuery;
import dev.pricer.track.model.RunStatus;
import dev.pricer.track.store.TrackStore;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A newcomer's first run ({@link DemoHome}: a fresh, empty PRICER_HOME, stopped once in the fine-tune and run
 * again), then what it left behind: the two tracked runs and their metrics, the commits of the fine-tune's
 * repository and the base's, and the evaluation report. A further run reuses all of it.
 */
class DemoNewcomerTest {

    @Test
    void theDemoTrainsTracksVersionsAndEvaluatesFromNothing() throws Exception {
        DemoHome demo = DemoHome.get();
        Path home = demo.home();
        assertTrue(demo.resumed().contains("done; see it with"), demo.resumed());

        try (TrackStore store = TrackStore.openHome(home)) {
            Map<String, RunInfo> runs = store.runs(RunQuery.project(DemoCommand.PROJECT)).stream()
                    .collect(Collectors.toMap(RunInfo::name, r -> r));
            assertEquals(java.util.Set.of(DemoCommand.BASE_RUN, DemoCommand.LORA_RUN), runs.keySet(), "two runs");
            for (RunInfo run : runs.values()) {
                assertEquals(RunStatus.FINISHED, run.status(), run.name());
                List<Point> loss = store.history(run.id(), "train/loss", 0, 100_000);
                assertTrue(loss.size() >= 3, run.name() + " logged its training loss: " + loss);
                assertTrue(loss.getLast().value() < loss.getFirst().value(), run.name() + " loss falls: " + loss);
                assertTrue(!store.history(run.id(), "eval/loss", 0, 1000).isEmpty(), run.name() + " has eval loss");
                assertTrue(!store.history(run.id(), "train/learning_rate", 0, 1000).isEmpty(), run.name() + " has the learning rate");
            }
            assertTrue(!store.history(runs.get(DemoCommand.LORA_RUN).id(), "eval/price_error", 0, 1000).isEmpty(),
                    "the Tester's results are attached to the fine-tune's run");
        }

        try (HubClient hub = new LocalHub(Hubs.local(home.resolve("hub")), "test")) {
            RepoId lora = RepoId.model("demo/demo-lora");
            List<CommitInfo> commits = hub.log(lora, "main", 100);
            List<String> tags = hub.refs(lora).stream().filter(r -> r.kind() == Ref.Kind.TAG).map(Ref::name).sorted().toList();
            assertTrue(commits.size() >= 2, "a commit per checkpoint: " + commits);
            assertEquals(commits.size(), tags.size(), "each commit tagged step-N: " + tags);
            assertTrue(hub.files(lora, "main").stream().map(f -> f.path()).toList().containsAll(List.of("adapter_model.safetensors", "README.md")),
                    "each checkpoint commit has the adapter and its model card");
            assertTrue(hub.files(DemoCommand.BASE_REPO, "main").stream().map(f -> f.path()).toList()
                    .containsAll(List.of("config.json", "model.safetensors", "tokenizer.json", "README.md")), "the base is published");
            try (var config = hub.open(lora, "main", "adapter_config.json")) {
                JsonNode adapter = new ObjectMapper().readTree(config);
                assertEquals(DemoCommand.BASE_REPO.toString(), adapter.path("base_model_name_or_path").asText(), "the adapter names its base's repository");
                assertEquals(hub.resolve(DemoCommand.BASE_REPO, "main"), adapter.path("revision").asText(), "at the commit it was trained on");
            }
        }

        JsonNode report = new ObjectMapper().readTree(home.resolve("demo/eval/report.json").toFile());
        Map<String, Double> errors = new java.util.LinkedHashMap<>();
        for (JsonNode r : report.path("reports")) {
            assertEquals(30, r.path("items").asInt(), r.toString());
            errors.put(r.path("name").asText(), r.path("average_error").asDouble());
        }
        assertTrue(errors.containsKey("constant (training mean)") && errors.containsKey("base model (no adapter)"), errors.toString());
        assertTrue(errors.keySet().stream().filter(n -> n.startsWith("demo/demo-lora@")).count() >= 2, "every checkpoint: " + errors);
        assertTrue(errors.values().stream().allMatch(e -> Double.isFinite(e) && e >= 0), errors.toString());
        assertTrue(Files.exists(home.resolve("demo/eval/error-by-step.png")), "the error-by-step chart");

    }

    @Test
    void aStoppedDemoContinuesWhereItStoppedAndAFinishedOneReusesEverything() throws Exception {
        DemoHome demo = DemoHome.get();
        assertEquals(5, demo.resumed().lines().filter(l -> l.endsWith(": already done")).count(),
                "the rerun after the stop skips the five steps before the fine-tune:\n" + demo.resumed());
        assertTrue(demo.resumed().contains("resuming run demo/lora from its latest checkpoint"), demo.resumed());
        try (TrackStore store = TrackStore.openHome(demo.home())) {
            assertEquals(2, store.runs(RunQuery.project(DemoCommand.PROJECT)).size(), "the resumed fine-tune is the same tracked run");
        }
        String again = DemoHome.demo(demo.home());
        assertEquals(7, again.lines().filter(l -> l.endsWith(": already done")).count(), "a rerun reuses every step:\n" + again);
    }
}
