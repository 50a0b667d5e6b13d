package dev.pricer.data.read;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The files to read and how to read them. {@code layout} null means: tell from the first file's columns.
 * {@code category} names every item's category when the files do not (the course named each raw file's items
 * by the file's category).
 */
public record Source(List<Path> files, Layout layout, Columns columns, String category) {

    public Source {
        files = List.copyOf(files);
        if (files.isEmpty()) throw new IllegalArgumentException("no input files");
        if (layout == Layout.COLUMNS && columns == null) {
            throw new IllegalArgumentException("the columns layout needs --text-columns and --price-column");
        }
        if (columns != null && layout == null) layout = Layout.COLUMNS;
    }

    /** Hugging Face dataset repositories keep each split's shards in one of these places. */
    private static final List<String> SPLIT_PATTERNS = List.of(
            "data/%s-*.parquet", "%s-*.parquet", "data/%s/*.parquet", "%s/*.parquet",
            "data/%s.parquet", "%s.parquet", "data/%s-*.jsonl", "data/%s.jsonl", "%s.jsonl", "data/%s.jsonl.gz", "%s.jsonl.gz",
            "data/%s.json", "%s.json", "data/%s.csv", "%s.csv");

    /** The patterns as regular expressions whose group is the split's name. */
    private static final List<Pattern> SPLIT_NAMES = SPLIT_PATTERNS.stream()
            .map(glob -> Pattern.compile(glob.replace(".", "\\.").replace("*", "[^/]*").replace("%s", "([^/]+?)"))).toList();

    /** The split a file of a dataset folder belongs to, by where Hugging Face layouts keep each split ({@code data/train-00000-of-00001.parquet}: train). */
    public static Optional<String> splitOf(String relativePath) {
        for (Pattern pattern : SPLIT_NAMES) {
            Matcher m = pattern.matcher(relativePath);
            if (m.matches()) return Optional.of(m.group(1));
        }
        return Optional.empty();
    }

    /**
     * The files an input names: a file, a glob such as {@code data/train-*.parquet}, or a dataset folder in
     * Hugging Face layout, of which the {@code split} is taken.
     */
    public static List<Path> resolve(Path input, String split) {
        if (Files.isRegularFile(input)) return List.of(input);
        if (Files.isDirectory(input)) {
            for (String pattern : SPLIT_PATTERNS) {
                List<Path> found = glob(input, pattern.formatted(split));
                if (!found.isEmpty()) return found;
            }
            throw new DataFileException(input, "no files of split '" + split + "' here (looked for "
                    + String.join(", ", SPLIT_PATTERNS.stream().map(p -> p.formatted(split)).toList()) + ")");
        }
        String text = input.toString();
        if (text.contains("*") || text.contains("?")) {
            Path base = input.getParent() == null ? Path.of(".") : input.getParent();
            while (base.toString().contains("*") || base.toString().contains("?")) base = base.getParent();
            List<Path> found = glob(base, base.relativize(input).toString());
            if (found.isEmpty()) throw new DataFileException(input, "no files match");
            return found;
        }
        throw new DataFileException(input, "no such file or folder");
    }

    private static List<Path> glob(Path dir, String pattern) {
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
        try (Stream<Path> walk = Files.walk(dir, 3)) {
            List<Path> found = new ArrayList<>(walk.filter(Files::isRegularFile)
                    .filter(p -> matcher.matches(dir.relativize(p))).sorted().toList());
            return found;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }
}
