package dev.pricer.track.model;

/**
 * One logged value. {@code seq} numbers a run's points from 1 in the order they were logged, so an upload
 * can resume after the last point a server acknowledged; {@code segment} grows when steps go backwards
 * (a resumed run), so earlier values are kept rather than overwritten.
 */
public record Point(long seq, String key, int segment, long step, long wallMs, double value) {
}
