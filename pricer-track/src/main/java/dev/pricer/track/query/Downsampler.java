package dev.pricer.track.query;

import java.util.Arrays;

/**
 * Cuts a history into buckets of equal step width and keeps, per bucket, the minimum and maximum of its
 * finite values and its last point, so a spike survives any zoom level. A bucket holding a NaN or an
 * infinity has a non-finite last value, so the chart shows the gap. Empty buckets are left out.
 */
public final class Downsampler {

    private Downsampler() {
    }

    /** Columns of the result; {@code size} entries are used. */
    public record Buckets(long[] step, long[] wallMs, double[] min, double[] max, double[] last, int size) {
        public Buckets trimmed() {
            return new Buckets(Arrays.copyOf(step, size), Arrays.copyOf(wallMs, size), Arrays.copyOf(min, size),
                    Arrays.copyOf(max, size), Arrays.copyOf(last, size), size);
        }
    }

    /**
     * Buckets points {@code [from, to)} of columns sorted by step. When they are no more than
     * {@code buckets}, each point is its own bucket.
     */
    public static Buckets downsample(long[] step, long[] wallMs, double[] value, int from, int to, int buckets) {
        if (buckets < 1) throw new IllegalArgumentException("buckets must be at least 1, not " + buckets);
        int n = Math.max(0, to - from);
        int capacity = Math.min(n, buckets);
        long[] outStep = new long[capacity];
        long[] outWall = new long[capacity];
        double[] outMin = new double[capacity];
        double[] outMax = new double[capacity];
        double[] outLast = new double[capacity];
        if (n <= buckets) {
            for (int i = 0; i < n; i++) {
                double v = value[from + i];
                outStep[i] = step[from + i];
                outWall[i] = wallMs[from + i];
                outMin[i] = v;
                outMax[i] = v;
                outLast[i] = v;
            }
            return new Buckets(outStep, outWall, outMin, outMax, outLast, n);
        }
        long first = step[from];
        double width = (double) (step[to - 1] - first + 1) / buckets;
        int size = 0;
        long current = -1;
        double min = 0, max = 0;
        boolean gap = false;
        for (int i = from; i < to; i++) {
            long bucket = (long) ((step[i] - first) / width);
            if (bucket != current) {
                if (current >= 0) {
                    outMin[size] = min;
                    outMax[size] = max;
                    if (gap) outLast[size] = Double.NaN;
                    size++;
                }
                current = bucket;
                min = Double.POSITIVE_INFINITY;
                max = Double.NEGATIVE_INFINITY;
                gap = false;
            }
            double v = value[i];
            if (Double.isFinite(v)) {
                if (v < min) min = v;
                if (v > max) max = v;
            } else {
                gap = true;
            }
            outStep[size] = step[i];
            outWall[size] = wallMs[i];
            outLast[size] = v;
        }
        outMin[size] = min;
        outMax[size] = max;
        if (gap) outLast[size] = Double.NaN;
        size++;
        return new Buckets(outStep, outWall, outMin, outMax, outLast, size);
    }

    /** The first index in {@code [from, to)} whose step is at least {@code target}. */
    public static int lowerBound(long[] step, int from, int to, long target) {
        int lo = from, hi = to;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (step[mid] < target) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
