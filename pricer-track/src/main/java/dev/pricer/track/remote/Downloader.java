package dev.pricer.track.remote;

import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.store.TrackStore;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Copies a run that another machine tracked from the server into the local store, its metadata and every point with
 * the seq the server gave it, so that this machine can continue the run: its new points are numbered after the
 * server's, and steps logged again start a new segment, as on the machine that stopped. Uploader's way back.
 */
public final class Downloader {

    private static final int BATCH = 10_000;

    private final TrackStore store;
    private final TrackClient client;

    public Downloader(TrackStore store, TrackClient client) {
        this.store = store;
        this.client = client;
    }

    /**
     * Returns the number of points copied. The run is marked as synced up to its last point, so none goes back up;
     * throws {@link TrackClient.NotFound} when the server has no such run.
     */
    public long download(String runId) throws IOException {
        RunInfo run = client.run(runId);
        store.upsertRun(run);
        long after = store.resumePoint(runId).lastSeq(), copied = 0;
        while (true) {
            List<Point> points = client.points(runId, after, BATCH);
            if (points.isEmpty()) break;
            store.append(Map.of(runId, points));
            after = points.getLast().seq();
            copied += points.size();
        }
        store.markSynced(runId, after, System.currentTimeMillis());
        return copied;
    }
}
