package dev.pricer.train.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Metrics as JSON lines ({@code {"step":12,"time":...,"train/loss":1.83,...}}) in the run folder, flushed
 * line by line so a crash loses at most the line being written. Resuming from step N first drops the lines
 * after N (written by the interrupted run, and about to be written again), so the file reads as one run.
 */
public final class JsonlMetricsSink implements MetricsSink {

    public static final String FILE = "metrics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BufferedWriter out;

    private JsonlMetricsSink(BufferedWriter out) {
        this.out = out;
    }

    /** Opens {@code file} for appending, keeping only lines up to {@code resumeStep} (0: a new run, empty file). */
    public static JsonlMetricsSink open(Path file, int resumeStep) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        if (resumeStep == 0) {
            Files.deleteIfExists(file);
        } else if (Files.exists(file)) {
            List<String> kept = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (IOException e) {
                    continue; // the torn last line of a killed process
                }
                if (node != null && node.path("step").asInt(Integer.MAX_VALUE) <= resumeStep) kept.add(line);
            }
            Path temp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(temp, kept);
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        return new JsonlMetricsSink(Files.newBufferedWriter(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND));
    }

    @Override
    public void log(int step, Map<String, Double> metrics) throws IOException {
        ObjectNode line = JSON.createObjectNode();
        line.put("step", step);
        line.put("time", System.currentTimeMillis() / 1000.0);
        metrics.forEach((k, v) -> {
            if (Double.isFinite(v)) line.put(k, v);
            else line.put(k, v.toString());
        });
        out.write(JSON.writeValueAsString(line));
        out.newLine();
        out.flush();
    }

    /** Reads a metrics file back: one map of metric name to value per line. */
    public static List<Map<String, Object>> read(Path file) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank()) rows.add(JSON.readValue(line, JSON.getTypeFactory().constructMapType(Map.class, String.class, Object.class)));
        }
        return rows;
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
