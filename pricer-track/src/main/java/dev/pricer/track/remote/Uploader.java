package dev.pricer.track.remote;

import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.store.TrackStore;

import java.io.IOException;
import java.util.List;

/**
 * Brings a server up to date with a run in the local store: its metadata, then its points after the last
 * one the server acknowledged, in seq order. Streaming and {@code pricer runs sync} both use it.
 */
public final class Uploader {

    private static final int BATCH = 5_000;

    private final TrackStore store;
    private final TrackClient client;

    public Uploader(TrackStore store, TrackClient client) {
        this.store = store;
        this.client = client;
    }

    /** Returns the number of points sent. */
    public long upload(String runId) throws IOException {
        long startedMs = System.currentTimeMillis();
        RunInfo run = store.requireRun(runId);
        client.putRun(run);
        long acked = store.syncedSeq(runId);
        long sent = 0;
        while (true) {
            List<Point> points = store.pointsAfter(runId, acked, BATCH);
            if (points.isEmpty()) break;
            client.append(runId, points);
            acked = points.getLast().seq();
            sent += points.size();
            store.markSynced(runId, acked, 0);
        }
        store.markSynced(runId, acked, startedMs);
        return sent;
    }

    /** Uploads every run the server has not fully seen; returns the points sent. */
    public long uploadAll() throws IOException {
        long sent = 0;
        for (RunInfo run : store.unsynced()) sent += upload(run.id());
        return sent;
    }
}
