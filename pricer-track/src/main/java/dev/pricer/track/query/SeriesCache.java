package dev.pricer.track.query;

import dev.pricer.track.model.Series;
import dev.pricer.track.store.TrackStore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Histories held as columns in memory, so a chart query over a million points is one pass over arrays
 * instead of a million rows from the database. Each query first reads only the points stored since the
 * last one (by seq), so the cache follows writers in this process and in others. Least recently used
 * histories are dropped past {@code maxPoints}.
 */
public final class SeriesCache {

    private final TrackStore store;
    private final long maxPoints;
    private final Map<String, History> histories = new LinkedHashMap<>(16, 0.75f, true);
    private long cachedPoints;

    public SeriesCache(TrackStore store, long maxPoints) {
        this.store = store;
        this.maxPoints = maxPoints;
    }

    /**
     * The run's history of {@code key}, one {@link Series} per segment, over steps {@code [fromStep, toStep]}
     * (null: unbounded), each cut to at most {@code buckets} buckets.
     */
    public List<Series> query(String runId, String key, Long fromStep, Long toStep, int buckets) {
        History history = refreshed(runId, key);
        List<Series> out = new ArrayList<>();
        synchronized (history) {
            for (Segment segment : history.segments) {
                int from = fromStep == null ? 0 : Downsampler.lowerBound(segment.step, 0, segment.size, fromStep);
                int to = toStep == null ? segment.size
                        : Downsampler.lowerBound(segment.step, 0, segment.size, toStep == Long.MAX_VALUE ? toStep : toStep + 1);
                Downsampler.Buckets b = Downsampler.downsample(segment.step, segment.wallMs, segment.value, from, to, buckets).trimmed();
                if (b.size() == 0) continue;
                out.add(new Series(runId, key, segment.number, b.step(), b.wallMs(), b.min(), b.max(), b.last(),
                        to - from, to - from > buckets));
            }
        }
        return out;
    }

    private History refreshed(String runId, String key) {
        String id = runId + "\u0000" + key;
        History history;
        synchronized (this) {
            history = histories.computeIfAbsent(id, k -> new History());
        }
        long added;
        synchronized (history) {
            long before = history.points;
            store.scan(runId, key, history.loadedSeq, history::add);
            added = history.points - before;
        }
        if (added > 0) {
            synchronized (this) {
                cachedPoints += added;
                evict(id);
            }
        }
        return history;
    }

    private void evict(String keep) {
        var it = histories.entrySet().iterator();
        while (cachedPoints > maxPoints && it.hasNext()) {
            var entry = it.next();
            if (entry.getKey().equals(keep)) continue;
            cachedPoints -= entry.getValue().points;
            it.remove();
        }
    }

    private static final class History {
        final List<Segment> segments = new ArrayList<>();
        long loadedSeq;
        long points;

        void add(long seq, int segmentNumber, long step, long wallMs, double value) {
            Segment segment = segments.isEmpty() ? null : segments.getLast();
            if (segment == null || segment.number != segmentNumber) {
                segment = new Segment(segmentNumber);
                segments.add(segment);
            }
            segment.add(step, wallMs, value);
            loadedSeq = seq;
            points++;
        }
    }

    /** Steps never decrease within a segment (the writer starts a new one when they would). */
    private static final class Segment {
        final int number;
        long[] step = new long[64];
        long[] wallMs = new long[64];
        double[] value = new double[64];
        int size;

        Segment(int number) {
            this.number = number;
        }

        void add(long s, long w, double v) {
            if (size == step.length) {
                int grown = size * 2;
                step = Arrays.copyOf(step, grown);
                wallMs = Arrays.copyOf(wallMs, grown);
                value = Arrays.copyOf(value, grown);
            }
            step[size] = s;
            wallMs[size] = w;
            value[size] = v;
            size++;
        }
    }
}
