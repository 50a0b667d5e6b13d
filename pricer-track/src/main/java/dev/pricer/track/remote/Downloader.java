package dev.pricer.track.remote;

import dev.pricer.track.model.Point;
import dev.pricer.track.model.RunInfo;
import dev.pricer.track.store.TrackStore;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

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
     * Returns the number of points copied. The whole history is fetched first and stored in one transaction, marked as
     * synced up to its last point, so that none goes back up and a copy cut off midway leaves nothing; throws
     * {@link TrackClient.NotFound} when the server has no such run.
     */
    public long download(String runId) throws IOException {
        RunInfo run = client.run(runId);
        List<Point> points = new ArrayList<>();
        for (List<Point> page = client.points(runId, 0, BATCH); !page.isEmpty(); page = client.points(runId, page.getLast().seq(), BATCH)) {
            points.addAll(page);
        }
        store.importRun(run, points, System.currentTimeMillis());
        return points.size();
    }
}
