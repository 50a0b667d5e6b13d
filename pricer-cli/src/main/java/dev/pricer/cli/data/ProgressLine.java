package dev.pricer.cli.data;

import java.io.PrintStream;

/**
 * Progress of long data work on stderr: a bar (or a rolling count when the total is unknown) redrawn in place
 * on a terminal, and a plain log line every few seconds otherwise.
 */
final class ProgressLine {

    private static final long LOG_EVERY_NANOS = 5_000_000_000L;

    private final String what;
    private final long total;
    private final boolean terminal = System.console() != null;
    private final PrintStream err = System.err;
    private final long start = System.nanoTime();
    private long lastDraw;

    ProgressLine(String what, long total) {
        this.what = what;
        this.total = total;
    }

    void update(long done, String detail) {
        long now = System.nanoTime();
        if (now - lastDraw < (terminal ? 200_000_000L : LOG_EVERY_NANOS)) return;
        lastDraw = now;
        draw(done, detail, now);
    }

    void finish(long done, String detail) {
        draw(done, detail, System.nanoTime());
        if (terminal) err.println();
    }

    private void draw(long done, String detail, long now) {
        double seconds = Math.max(1e-9, (now - start) / 1e9);
        String rate = String.format("%,.0f/s", done / seconds);
        String suffix = (detail.isEmpty() ? "" : " " + detail) + " " + rate;
        if (!terminal) {
            err.printf("%s: %,d%s%s%n", what, done, total > 0 ? " of " + String.format("%,d", total) : "", suffix);
            return;
        }
        if (total > 0) {
            int width = 30;
            int filled = (int) Math.min(width, done * width / total);
            err.printf("\r%s [%s%s] %,d/%,d%s", what, "#".repeat(filled), " ".repeat(width - filled), done, total, suffix);
        } else {
            err.printf("\r%s: %,d%s", what, done, suffix);
        }
    }
}
