package dev.pricer.data.curate;

import java.util.TreeMap;
import dev.pricer.data.CuratedItem;
import dev.pricer.data.Prompts;
import dev.pricer.data.read.ItemReader;
import dev.pricer.data.read.Row;
import dev.pricer.data.read.Source;
import dev.pricer.data.write.OutputFormat;
import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * A whole curation run: read, curate each item on worker threads, balance, shuffle, split, write.
 * Curated items wait in a DuckDB table, which spills to disk past DuckDB's memory limit, not in the heap; the heap
 * holds only each item's price bucket and category (8 bytes an item), so a million raw lines curate in flat memory. Output files appear only once
 * complete (written beside, then renamed), so a failed run leaves no half-written split.
 */
public final class Curation {

    /** How many skipped records are listed by place; the rest are only counted. */
    public static final int SKIPS_LISTED = 10;
    private static final int BATCH = 256;

    /** Hears how far a run is: records read and items kept so far. */
    @FunctionalInterface
    public interface Progress {
        void update(long rowsRead, long curated);
    }

    /** What a run did, step by step. */
    public record Report(long rows, long skipped, List<Row.Skipped> firstSkipped, Map<Curator.Drop, Long> dropped,
                         long curated, long sampled, int train, int test, List<Path> outputs,
                         Map<String, Long> curatedByCategory) {}

    private final Curator curator;
    private final int threads;
    private final Progress progress;

    public Curation(Curator curator, int threads, Progress progress) {
        this.curator = curator;
        this.threads = Math.max(1, threads);
        this.progress = progress;
    }

    public Report run(Source source, Path outDir, OutputFormat format) {
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create output folder " + outDir, e);
        }
        Path work = tempDir(outDir);
        // An in-memory database: a database file would write every appended text twice (its write-ahead log, then
        // the file), and appending was most of the reading thread's time.
        try (DuckDBConnection db = (DuckDBConnection) DriverManager.getConnection("jdbc:duckdb:")) {
            try (Statement s = db.createStatement()) {
                // Memory stays bounded whatever the input size: DuckDB spills past this to the temporary folder, and a
                // few threads keep its per-thread buffers small on many-core machines.
                s.execute("SET memory_limit = '2GB'");
                s.execute("SET threads = " + Math.min(4, Runtime.getRuntime().availableProcessors()));
                s.execute("SET preserve_insertion_order = true");
                s.execute("SET temp_directory = '" + work.resolve("spill").toString().replace("'", "''") + "'");
                s.execute("CREATE TABLE curated (id INTEGER, title VARCHAR, category VARCHAR, price DOUBLE, text VARCHAR, tokens INTEGER, prompt VARCHAR)");
                s.execute("CREATE TABLE plan (id INTEGER, ord INTEGER, split VARCHAR)");
            }
            Collected collected = collect(source, db);
            BalancedSampler sampler = new BalancedSampler(curator.config());
            int[] kept = sampler.sample(collected.buckets(), collected.weights(curator.config()));
            BalancedSampler.Split split = sampler.split(kept);
            try (DuckDBAppender plan = db.createAppender(DuckDBConnection.DEFAULT_SCHEMA, "plan")) {
                appendPlan(plan, split.train(), "train");
                appendPlan(plan, split.test(), "test");
            }
            List<Path> outputs = new ArrayList<>();
            List<Path> partials = new ArrayList<>();
            for (String name : List.of("train", "test")) {
                Path target = outDir.resolve(name + "." + format.extension());
                Path partial = work.resolve(target.getFileName());
                writeSplit(db, name, partial, format);
                outputs.add(target);
                partials.add(partial);
            }
            // Both splits are complete before either replaces an earlier run's file.
            for (int i = 0; i < outputs.size(); i++) {
                Files.move(partials.get(i), outputs.get(i), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return new Report(collected.rows, collected.skipped, collected.firstSkipped, collected.dropped,
                    collected.count, kept.length, split.train().length, split.test().length, outputs,
                    collected.byCategory());
        } catch (SQLException e) {
            throw new IllegalStateException("curation store failed: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write curated files to " + outDir, e);
        } finally {
            deleteTree(work);
        }
    }

    /**
     * Writes a split's items to the file in the plan's shuffled order, in one statement: DuckDB's sort spills to disk
     * past the memory limit. (Gathering the order a slice at a time into a table first, then copying that, took 1.4×
     * as long over a whole run: BENCHMARKS.md.)
     */
    private static void writeSplit(DuckDBConnection db, String split, Path file, OutputFormat format) throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute("COPY (SELECT c.title, c.category, c.price, c.text, c.tokens, c.prompt FROM plan p JOIN curated c ON c.id = p.id"
                    + " WHERE p.split = '" + split + "' ORDER BY p.ord) TO '" + file.toString().replace("'", "''") + "' " + format.copyOptions());
        }
    }

    private Collected collect(Source source, DuckDBConnection db) throws SQLException {
        Collected c = new Collected();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "curate");
            t.setDaemon(true);
            return t;
        });
        ArrayDeque<Future<List<Result>>> pending = new ArrayDeque<>();
        try (ItemReader reader = ItemReader.open(source);
             DuckDBAppender appender = db.createAppender(DuckDBConnection.DEFAULT_SCHEMA, "curated")) {
            List<Supplier<Row>> batch = new ArrayList<>(BATCH);
            while (reader.hasNext()) {
                batch.add(reader.nextDeferred());
                c.rows++;
                if (batch.size() == BATCH) {
                    pending.add(submit(pool, batch));
                    batch = new ArrayList<>(BATCH);
                    while (pending.size() > threads * 2) c.take(pending.poll(), appender);
                    progress.update(c.rows, c.count);
                }
            }
            if (!batch.isEmpty()) pending.add(submit(pool, batch));
            while (!pending.isEmpty()) c.take(pending.poll(), appender);
            progress.update(c.rows, c.count);
        } finally {
            pool.shutdownNow();
        }
        return c;
    }

    /** Workers read each record into an item and curate it; results keep the input order. */
    private Future<List<Result>> submit(ExecutorService pool, List<Supplier<Row>> batch) {
        return pool.submit(() -> batch.stream().map(deferred -> switch (deferred.get()) {
            case Row.Skipped s -> new Result(null, s);
            case Row.Parsed p -> new Result(curator.curate(p.item()), null);
        }).toList());
    }

    /** One record's fate: curated or dropped (an outcome), or skipped as bad input. */
    private record Result(Curator.Outcome outcome, Row.Skipped skipped) {}

    private static void appendPlan(DuckDBAppender plan, int[] ids, String split) throws SQLException {
        for (int ord = 0; ord < ids.length; ord++) {
            plan.beginRow().append(ids[ord]).append(ord).append(split).endRow();
        }
    }

    /** What the streaming pass gathered: counts, the first skips, and each curated item's bucket and category. */
    private static final class Collected {
        long rows;
        long skipped;
        int count;
        final List<Row.Skipped> firstSkipped = new ArrayList<>();
        final Map<Curator.Drop, Long> dropped = new EnumMap<>(Curator.Drop.class);
        final Map<String, Integer> categoryIds = new HashMap<>();
        int[] buckets = new int[1024];
        int[] categories = new int[1024];

        void skip(Row.Skipped s) {
            skipped++;
            if (firstSkipped.size() < SKIPS_LISTED) firstSkipped.add(s);
        }

        void take(Future<List<Result>> future, DuckDBAppender appender) throws SQLException {
            List<Result> results;
            try {
                results = future.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("curation interrupted", e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                throw new IllegalStateException("curating an item failed: " + (cause.getMessage() != null ? cause.getMessage() : cause), cause);
            }
            for (Result r : results) {
                if (r.skipped() != null) {
                    skip(r.skipped());
                    continue;
                }
                Curator.Outcome o = r.outcome();
                if (o.drop() != null) {
                    dropped.merge(o.drop(), 1L, Long::sum);
                    continue;
                }
                CuratedItem item = o.item();
                if (count == buckets.length) {
                    buckets = Arrays.copyOf(buckets, count * 2);
                    categories = Arrays.copyOf(categories, count * 2);
                }
                buckets[count] = (int) Prompts.dollars(item.price());
                categories[count] = categoryIds.computeIfAbsent(item.category(), k -> categoryIds.size());
                appender.beginRow().append(count).append(item.title()).append(item.category()).append(item.price())
                        .append(item.text()).append(item.tokens()).append(item.prompt()).endRow();
                count++;
            }
        }

        int[] buckets() {
            return Arrays.copyOf(buckets, count);
        }

        double[] weights(CurationConfig config) {
            double[] byCategory = new double[categoryIds.size()];
            categoryIds.forEach((name, id) -> byCategory[id] = config.weightOf(name));
            double[] w = new double[count];
            for (int i = 0; i < count; i++) w[i] = byCategory[categories[i]];
            return w;
        }

        Map<String, Long> byCategory() {
            long[] n = new long[categoryIds.size()];
            for (int i = 0; i < count; i++) n[categories[i]]++;
            Map<String, Long> out = new TreeMap<>();
            categoryIds.forEach((name, id) -> out.put(name, n[id]));
            return out;
        }
    }

    private static Path tempDir(Path outDir) {
        try {
            return Files.createTempDirectory(outDir, ".pricer-curate-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a work folder in " + outDir, e);
        }
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove work folder " + dir, e);
        }
    }
}
