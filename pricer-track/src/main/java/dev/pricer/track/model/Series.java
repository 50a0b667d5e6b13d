package dev.pricer.track.model;

/**
 * One segment of one run's history of one key, as columns. When downsampled, entry i describes a bucket:
 * the step and wall time of its last point, the minimum and maximum of its finite values, and its last
 * value (non-finite when any value in the bucket is, so gaps are never hidden). Raw series have
 * {@code min == max == last}.
 */
public record Series(String runId, String key, int segment, long[] step, long[] wallMs,
                     double[] min, double[] max, double[] last, long totalPoints, boolean downsampled) {

    public int size() {
        return step.length;
    }
}
