package dev.pricer.cli.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.cli.PricerCommand;
import dev.pricer.hub.CheckpointOrigin;
import dev.pricer.hub.CommitInfo;
import dev.pricer.hub.HubClient;
import dev.pricer.hub.Hubs;
import dev.pricer.hub.LocalHub;
import dev.pricer.hub.RepoId;
import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunQuery;
import dev.pricer.track.model.RunStatus;
import dev.pricer.track.store.TrackStore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code pricer train} by default records the run in the tracking store and commits each checkpoint to the hub. */
class TrainSinksTest {

    @TempDir
    static Path dir;

    /** The same tiny model and data as {@link TrainCommandTest}, in this class's own folder. */
    @BeforeAll
    static void files() throws Exception {
        TrainCommandTest.dir = dir;
        TrainCommandTest.files();
    }

    @Test
    void aRunIsTrackedAndEveryCheckpointIsATaggedCommit() throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(0, TrainCommandTest.inProcess(err, TrainCommandTest.command("sinks")), err.toString());
        String runId;
        Path home = TrainCommandTest.dir.resolve("home");
        try (TrackStore store = TrackStore.openHome(home)) {
            RunInfo run = store.runs(RunQuery.project("p")).stream().filter(r -> r.name().equals("sinks")).findFirst().orElseThrow();
            assertEquals(RunStatus.FINISHED, run.status());
            assertEquals("4", run.config().get("lora_r"), "the training arguments are the run's config");
            List<Point> loss = store.history(run.id(), "train/loss", 0, 1000);
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L), loss.stream().map(Point::step).toList());
            assertEquals(run.id(), Files.readString(TrainCommandTest.runDir("sinks").resolve(TrainCommand.TRACKED_RUN_FILE)).strip());
            runId = run.id();
            assertEquals("p/p-sinks", run.config().get(CheckpointOrigin.RUN_CONFIG_KEY), "the run names its repository");
        }
        try (HubClient hub = new LocalHub(Hubs.local(home.resolve("hub")), "test")) {
            RepoId repo = HubCheckpoints.repoOf("p", "sinks");
            List<CommitInfo> log = hub.log(repo, "main", 100);
            assertEquals(List.of("final checkpoint, step 8", "step 6", "step 4", "step 2"), log.stream().map(CommitInfo::title).toList());
            assertEquals(hub.resolve(repo, "step-4"), log.get(2).sha());
            assertTrue(hub.files(repo, "step-2").stream().anyMatch(f -> f.path().equals("adapter_config.json")));
            assertEquals(List.of(8L, 6L, 4L, 2L), log.stream().map(c -> CheckpointOrigin.ofMessage(c.message()).orElseThrow().step()).toList(),
                    "each commit names the step it saved");
            for (CommitInfo commit : log) assertEquals(runId, CheckpointOrigin.ofMessage(commit.message()).orElseThrow().runId());
        }
        JsonNode shown = JSON.readTree(stdout("runs", "show", "--home", home.toString(), runId, "--json"));
        assertEquals("p/p-sinks", shown.get("hub").get("repo").asText());
        JsonNode checkpoints = shown.get("hub").get("checkpoints");
        assertEquals(List.of(2, 4, 6, 8), checkpoints.findValues("step").stream().map(JsonNode::asInt).toList(), shown.toString());
        JsonNode log = JSON.readTree(stdout("hub", "log", "p/p-sinks", "--store", home.resolve("hub").toString(), "--json"));
        assertEquals(checkpoints.get(3).get("commit").asText(), log.get(0).get("sha").asText());
        assertEquals(8, log.get(0).get("step").asInt());
        assertEquals(runId, log.get(0).get("run").asText(), "the commit links back to the run");
        assertEquals("step-8", log.get(0).get("tags").get(0).asText());
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a command prints (the runs commands print to System.out, the hub commands to picocli's writer). */
    private static String stdout(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            CommandLine cmd = PricerCommand.create();
            cmd.setOut(new PrintWriter(System.out, true));
            assertEquals(0, cmd.execute(args), String.join(" ", args));
            return buffer.toString(StandardCharsets.UTF_8);
        } finally {
            System.setOut(saved);
        }
    }

    @Test
    void noTrackAndNoPushLeaveOnlyTheRunFolder() throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(0, TrainCommandTest.inProcess(err, TrainCommandTest.command("quiet", "--no-track", "--no-push")), err.toString());
        Path home = TrainCommandTest.dir.resolve("home");
        try (TrackStore store = TrackStore.openHome(home)) {
            assertTrue(store.runs(RunQuery.project("p")).stream().noneMatch(r -> r.name().equals("quiet")));
        }
        try (HubClient hub = new LocalHub(Hubs.local(home.resolve("hub")), "test")) {
            assertFalse(hub.repoInfo(HubCheckpoints.repoOf("p", "quiet")).isPresent());
        }
    }
}
