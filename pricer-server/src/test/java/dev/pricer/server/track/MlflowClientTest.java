package dev.pricer.server.track;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.model.RunStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mlflow.api.proto.Service;
import org.mlflow.tracking.MlflowClient;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real MLflow Java client (org.mlflow:mlflow-client 2.17.2) against our /api/2.0/mlflow/ subset. */
class MlflowClientTest {

    @TempDir
    Path dir;

    @Test
    void theMlflowClientCreatesAndLogsARunThatTheDashboardShows() throws Exception {
        try (TrackServerFixture fixture = new TrackServerFixture(dir);
             MlflowClient mlflow = new MlflowClient(fixture.uri().toString())) {
            assertTrue(mlflow.getExperimentByName("pricer-mlflow").isEmpty());
            String experiment = mlflow.createExperiment("pricer-mlflow");
            Optional<Service.Experiment> found = mlflow.getExperimentByName("pricer-mlflow");
            assertEquals(experiment, found.orElseThrow().getExperimentId());
            assertTrue(mlflow.searchExperiments().getItems().stream().anyMatch(e -> e.getName().equals("pricer-mlflow")));

            Service.RunInfo created = mlflow.createRun(Service.CreateRun.newBuilder().setExperimentId(experiment)
                    .setRunName("from-mlflow").build());
            String runId = created.getRunId();
            mlflow.logParam(runId, "learning_rate", "0.0002");
            mlflow.setTag(runId, "model", "llama-3.1-8b");
            for (int step = 1; step <= 20; step++) mlflow.logMetric(runId, "train/loss", 3.0 / step, System.currentTimeMillis(), step);
            mlflow.logBatch(runId, List.of(
                    Service.Metric.newBuilder().setKey("eval/loss").setValue(1.25).setTimestamp(System.currentTimeMillis()).setStep(20).build(),
                    Service.Metric.newBuilder().setKey("eval/loss").setValue(Double.NaN).setTimestamp(System.currentTimeMillis()).setStep(21).build()),
                    List.of(Service.Param.newBuilder().setKey("lora_r").setValue("16").build()),
                    List.of(Service.RunTag.newBuilder().setKey("mlflow.note.content").setValue("logged by mlflow").build()));
            mlflow.setTerminated(runId, Service.RunStatus.FINISHED);

            Service.Run run = mlflow.getRun(runId);
            assertEquals("from-mlflow", run.getInfo().getRunName());
            assertEquals(Service.RunStatus.FINISHED, run.getInfo().getStatus());
            assertTrue(run.getData().getParamsList().stream().anyMatch(p -> p.getKey().equals("lora_r") && p.getValue().equals("16")));
            assertTrue(run.getData().getTagsList().stream().anyMatch(t -> t.getKey().equals("model") && t.getValue().equals("llama-3.1-8b")));
            List<Service.Metric> history = mlflow.getMetricHistory(runId, "train/loss");
            assertEquals(20, history.size());
            assertEquals(3.0, history.getFirst().getValue());
            assertEquals(20, history.getLast().getStep());
            assertTrue(Double.isNaN(mlflow.getMetricHistory(runId, "eval/loss").getLast().getValue()));
            assertEquals(1, mlflow.searchRuns(List.of(experiment), "params.learning_rate = '0.0002'", Service.ViewType.ACTIVE_ONLY, 100)
                    .getItems().size());
            assertEquals(0, mlflow.searchRuns(List.of(experiment), "attributes.status = 'RUNNING'", Service.ViewType.ACTIVE_ONLY, 100)
                    .getItems().size());

            RunInfo ours = fixture.store.requireRun(runId);
            assertEquals(RunStatus.FINISHED, ours.status());
            assertEquals("0.0002", ours.config().get("learning_rate"));
            assertEquals("logged by mlflow", ours.notes());
            List<Point> loss = fixture.store.fullHistory(runId, "train/loss");
            assertEquals(20, loss.size());
            JsonNode series = fixture.json("/api/track/series?run=" + runId + "&key=train/loss");
            assertEquals(20, series.get(0).get("step").size());
            JsonNode runs = fixture.json("/api/track/projects/pricer-mlflow/runs");
            assertEquals("from-mlflow", runs.get(0).get("name").asText());

            String running = mlflow.createRun(experiment).getRunId();
            var refused = assertThrows(org.mlflow.tracking.MlflowHttpException.class, () -> mlflow.deleteRun(running));
            assertTrue(refused.getBodyMessage().contains("INVALID_STATE") && refused.getBodyMessage().contains("still running"), refused.getBodyMessage());
            assertThrows(org.mlflow.tracking.MlflowHttpException.class, () -> mlflow.restoreRun(runId), "nothing deleted to restore");
            mlflow.deleteRun(runId);
            assertTrue(fixture.store.run(runId).isEmpty(), "deleted for good");
            assertTrue(fixture.store.fullHistory(runId, "train/loss").isEmpty());
            var gone = assertThrows(org.mlflow.tracking.MlflowHttpException.class, () -> mlflow.getRun(runId));
            assertEquals(404, gone.getStatusCode());
        }
    }

    @Test
    void int64ValuesAreAcceptedAsStringsAndErrorsFollowMlflow() throws Exception {
        try (TrackServerFixture fixture = new TrackServerFixture(dir)) {
            fixture.send("POST", "/api/2.0/mlflow/experiments/create", "{\"name\":\"e\"}");
            String created = fixture.send("POST", "/api/2.0/mlflow/runs/create",
                    "{\"experiment_id\":\"e\",\"start_time\":\"1700000000000\",\"run_name\":\"r\"}").body();
            String runId = dev.pricer.track.remote.TrackClient.JSON.readTree(created).get("run").get("info").get("run_id").asText();
            assertEquals(1_700_000_000_000L, fixture.store.requireRun(runId).startedMs());
            assertEquals(200, fixture.send("POST", "/api/2.0/mlflow/runs/log-metric",
                    "{\"run_id\":\"" + runId + "\",\"key\":\"loss\",\"value\":0.5,\"timestamp\":\"1700000000001\",\"step\":\"7\"}").statusCode());
            Point point = fixture.store.fullHistory(runId, "loss").getFirst();
            assertEquals(7, point.step());
            assertEquals(1_700_000_000_001L, point.wallMs());
            var missing = fixture.send("GET", "/api/2.0/mlflow/runs/get?run_id=nope", null);
            assertEquals(404, missing.statusCode());
            assertEquals("RESOURCE_DOES_NOT_EXIST", dev.pricer.track.remote.TrackClient.JSON.readTree(missing.body()).get("error_code").asText());
            var twice = fixture.send("POST", "/api/2.0/mlflow/experiments/create", "{\"name\":\"e\"}");
            assertEquals("RESOURCE_ALREADY_EXISTS", dev.pricer.track.remote.TrackClient.JSON.readTree(twice.body()).get("error_code").asText());
        }
    }

    /** A step, timestamp or time that is not a whole number is refused by name, as MLflow does, and nothing is stored. */
    @Test
    void numbersThatAreNotWholeAreRefusedByName() throws Exception {
        try (TrackServerFixture fixture = new TrackServerFixture(dir)) {
            fixture.send("POST", "/api/2.0/mlflow/experiments/create", "{\"name\":\"e\"}");
            var bad = fixture.send("POST", "/api/2.0/mlflow/runs/create", "{\"experiment_id\":\"e\",\"start_time\":\"yesterday\"}");
            assertEquals(400, bad.statusCode(), bad.body());
            assertTrue(bad.body().contains("start_time") && bad.body().contains("yesterday"), bad.body());
            String created = fixture.send("POST", "/api/2.0/mlflow/runs/create", "{\"experiment_id\":\"e\"}").body();
            String runId = dev.pricer.track.remote.TrackClient.JSON.readTree(created).get("run").get("info").get("run_id").asText();
            for (String field : List.of("\"step\":\"x\"", "\"step\":1.5", "\"timestamp\":\"soon\"", "\"step\":[1]")) {
                var refused = fixture.send("POST", "/api/2.0/mlflow/runs/log-metric",
                        "{\"run_id\":\"" + runId + "\",\"key\":\"loss\",\"value\":0.5," + field + "}");
                assertEquals(400, refused.statusCode(), field + ": " + refused.body());
                JsonNode error = dev.pricer.track.remote.TrackClient.JSON.readTree(refused.body());
                assertEquals("INVALID_PARAMETER_VALUE", error.get("error_code").asText());
                assertTrue(error.get("message").asText().contains("metric 'loss' has " + field.substring(1, field.indexOf(':') - 1)), error.toString());
            }
            assertTrue(fixture.store.fullHistory(runId, "loss").isEmpty());
            var search = fixture.send("POST", "/api/2.0/mlflow/runs/search", "{\"experiment_ids\":[\"e\"],\"max_results\":-1}");
            assertEquals(400, search.statusCode(), search.body());
        }
    }
}
