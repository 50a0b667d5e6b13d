package dev.pricer.train.metrics;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class JsonlMetricsSinkTest {

    @TempDir
    Path run;

    @Test
    void resumingDropsTheLinesAfterTheCheckpointAndATornLastLine() throws IOException {
        Path file = run.resolve(JsonlMetricsSink.FILE);
        try (JsonlMetricsSink sink = JsonlMetricsSink.open(file, 0)) {
            for (int s = 1; s <= 6; s++) sink.log(s, Map.of("train/loss", 2.0 / s));
            sink.log(7, Map.of("train/loss", Double.NaN));
        }
        Files.writeString(file, Files.readString(file) + "{\"step\":8,\"train/lo");
        try (JsonlMetricsSink sink = JsonlMetricsSink.open(file, 4)) {
            sink.log(5, Map.of("train/loss", 0.25));
        }
        List<Map<String, Object>> rows = JsonlMetricsSink.read(file);
        assertEquals(List.of(1, 2, 3, 4, 5), rows.stream().map(r -> ((Number) r.get("step")).intValue()).toList());
        assertEquals(0.25, ((Number) rows.get(4).get("train/loss")).doubleValue());
    }

    @Test
    void aNewRunStartsEmptyAndNonFiniteValuesAreKeptAsText() throws IOException {
        Path file = run.resolve(JsonlMetricsSink.FILE);
        Files.writeString(file, "{\"step\":1}\n");
        try (JsonlMetricsSink sink = JsonlMetricsSink.open(file, 0)) {
            sink.log(1, Map.of("train/loss", Double.POSITIVE_INFINITY));
        }
        List<Map<String, Object>> rows = JsonlMetricsSink.read(file);
        assertEquals(1, rows.size());
        assertEquals("Infinity", rows.getFirst().get("train/loss"));
    }
}
