package dev.pricer.cli.progress;

import dev.pricer.hub.FileEntry;
import dev.pricer.train.progress.Progress;

import java.io.PrintWriter;
import java.util.function.LongSupplier;

/**
 * Progress of long work on stderr: on a terminal one bar redrawn in place (a running count where the total is not
 * known), otherwise (a log file, a pipe, CI) a plain line every few seconds and one at the end, so that logs stay
 * readable. Counts are things (records, items) or bytes.
 */
public final class ProgressBar {

    public enum Unit { COUNT, BYTES }

    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final long LOG_EVERY_NANOS = 5_000_000_000L;

    private final PrintWriter err;
    private final boolean terminal;
    private final LongSupplier clock;
    private final String label;
    private final long total;
    private final Unit unit;
    private final long start;
    private long done;
    private long drawn = -1;
    private long lastDraw;
    private int lastWidth;

    ProgressBar(PrintWriter err, boolean terminal, LongSupplier clock, String label, long total, Unit unit) {
        this.err = err;
        this.terminal = terminal;
        this.clock = clock;
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.start = clock.getAsLong();
        this.lastDraw = start;
    }

    /** A bar for {@code total} (0 or less: not known) things or bytes, drawn on {@code err}. */
    public static ProgressBar start(PrintWriter err, String label, long total, Unit unit) {
        return new ProgressBar(err, isTerminal(), System::nanoTime, label, total, unit);
    }

    /** {@link #start} on the process's standard error. */
    public static ProgressBar onStandardError(String label, long total, Unit unit) {
        return start(new PrintWriter(System.err, true), label, total, unit);
    }

    private static boolean isTerminal() {
        var console = System.console();
        return console != null && console.isTerminal();
    }

    /** {@code done} so far, with {@code detail} after the numbers ("records, 1,234 curated"). */
    public void update(long done, String detail) {
        this.done = done;
        long now = clock.getAsLong();
        if (now - lastDraw < (terminal ? REDRAW_NANOS : LOG_EVERY_NANOS)) return;
        draw(detail, now);
    }

    /** A line of its own, above the bar on a terminal. */
    public void message(String line) {
        if (terminal) err.print("\r" + " ".repeat(lastWidth) + "\r");
        err.println(line);
        err.flush();
        lastWidth = 0;
        lastDraw = 0;
    }

    /** The last state, ending the bar's line; a log gets it unless its last line already said it. */
    public void finish(long done, String detail) {
        this.done = done;
        if (terminal || done != drawn) draw(detail, clock.getAsLong());
        if (terminal) err.println();
        err.flush();
    }

    private void draw(String detail, long now) {
        lastDraw = now;
        drawn = done;
        double seconds = (now - start) / 1e9;
        // A rate over less than half a second says more about the clock than about the work.
        String rate = seconds < 0.5 ? "" : "  " + amount(Math.round(done / seconds)) + "/s";
        String tail = (detail.isEmpty() ? "" : " " + detail) + rate;
        boolean known = total > 0;
        if (!terminal) {
            String percent = known ? " (%d%%)".formatted(Math.min(100, done * 100 / total)) : "";
            err.println(label + ": " + amount(done) + (known ? " of " + amount(total) : "") + percent + tail);
            err.flush();
            return;
        }
        String line;
        if (known) {
            int filled = (int) Math.min(WIDTH, done * WIDTH / total);
            double eta = done <= 0 || seconds <= 0 ? Double.NaN : seconds / done * Math.max(0, total - done);
            line = "%s [%s%s] %s/%s%s  ETA %s".formatted(label, "#".repeat(filled), ".".repeat(WIDTH - filled),
                amount(done), amount(total), tail, Progress.clock(eta));
        } else {
            line = label + ": " + amount(done) + tail;
        }
        err.print("\r" + line + " ".repeat(Math.max(0, lastWidth - line.length())));
        err.flush();
        lastWidth = line.length();
    }

    private String amount(long n) {
        return unit == Unit.BYTES ? FileEntry.readable(n) : "%,d".formatted(n);
    }
}
