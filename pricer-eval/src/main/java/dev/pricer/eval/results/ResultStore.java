package dev.pricer.eval.results;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.eval.chart.Charts;
import dev.pricer.eval.tester.Report;
import dev.pricer.eval.tester.Tables;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Every evaluation kept for the leaderboard: {@code <dir>/<dataset>/<entry>.json} (the report) and
 * {@code <entry>.png} (its scatter chart), each written whole. Evaluating the same model on the same dataset
 * again replaces its entry.
 */
public final class ResultStore {

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,150}");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One row of a leaderboard. */
    public record Entry(String dataset, String id, String name, int items, double averageError, double rmsle, double hits, int misses) {}

    private final Path dir;

    public ResultStore(Path dir) {
        this.dir = dir;
    }

    /** A file-name-safe id: lower case letters, digits, dots, dashes and underscores. */
    public static String slug(String name) {
        String s = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]+", "-").replaceAll("^[-._]+|-+$", "");
        return s.isEmpty() ? "unnamed" : s.substring(0, Math.min(s.length(), 150));
    }

    public void save(String dataset, Report report) {
        String id = slug(report.name());
        Path folder = dir.resolve(slug(dataset));
        Charts.writePng(Charts.scatter(report), folder.resolve(id + ".png"));
        try {
            Path tmp = Files.createTempFile(folder, ".result", ".json");
            try {
                JSON.writeValue(tmp.toFile(), Tables.detailed(report));
                Files.move(tmp, folder.resolve(id + ".json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the result of " + report.name() + " in " + folder + ": " + e.getMessage(), e);
        }
    }

    public List<String> datasets() {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> NAME.matcher(n).matches()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /** The dataset's entries, lowest average error first. */
    public List<Entry> leaderboard(String dataset) {
        Path folder = folder(dataset);
        List<Entry> out = new ArrayList<>();
        if (!Files.isDirectory(folder)) return out;
        try (Stream<Path> s = Files.list(folder)) {
            for (Path f : s.filter(p -> p.getFileName().toString().endsWith(".json") && !p.getFileName().toString().startsWith(".")).toList()) {
                JsonNode n = JSON.readTree(f.toFile());
                String id = f.getFileName().toString().replaceFirst("\\.json$", "");
                out.add(new Entry(dataset, id, n.path("name").asText(id), n.path("items").asInt(), n.path("average_error").asDouble(),
                        n.path("rmsle").asDouble(), n.path("hits").asDouble(), n.path("misses").asInt()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the results in " + folder + ": " + e.getMessage(), e);
        }
        out.sort(Comparator.comparingDouble(Entry::averageError));
        return out;
    }

    /**
     * Every dataset's entry for a model repository at a commit ({@code sha}, at least its first 7 characters): those
     * {@code pricer eval} named {@code repo@sha7}, with or without the step after it.
     */
    public List<Entry> ofRevision(String repo, String sha) {
        if (sha.length() < 7) throw new IllegalArgumentException("a commit needs at least 7 characters, not '" + sha + "'");
        String label = repo + "@" + sha.substring(0, 7);
        List<Entry> out = new ArrayList<>();
        for (String dataset : datasets()) {
            for (Entry e : leaderboard(dataset)) {
                if (e.name().equals(label) || e.name().startsWith(label + " ")) out.add(e);
            }
        }
        return out;
    }

    /** The scatter chart of an entry; names are checked so that no path leaves the store. */
    public Path chart(String dataset, String id) {
        if (!NAME.matcher(id).matches()) throw new IllegalArgumentException("bad result id '" + id + "'");
        return folder(dataset).resolve(id + ".png");
    }

    private Path folder(String dataset) {
        if (!NAME.matcher(dataset).matches()) throw new IllegalArgumentException("bad dataset name '" + dataset + "'");
        return dir.resolve(dataset);
    }
}
