package dev.pricer.cli.progress;

import dev.pricer.hub.FileEntry;
import dev.pricer.hub.TransferProgress;

import java.io.PrintWriter;

/**
 * A bar of bytes for each file of at least a megabyte that a download or a push moves, labelled "[2/7]
 * model-00002-of-00004.safetensors". Smaller files (configs, tokenizers, a small adapter) move in a moment, and a
 * line for each would only bury the ones that take minutes.
 */
public final class TransferBar implements TransferProgress {

    static final long SHOWN_FROM = 1_000_000;

    private final BarFactory bars;
    private ProgressBar bar;
    private long moved;

    /** How a bar is made for a label and a size, so that tests can hold the clock and the terminal. */
    interface BarFactory {
        ProgressBar start(String label, long bytes);
    }

    TransferBar(BarFactory bars) {
        this.bars = bars;
    }

    /** Bars on {@code err}. */
    public static TransferBar on(PrintWriter err) {
        return new TransferBar((label, bytes) -> ProgressBar.start(err, label, bytes, ProgressBar.Unit.BYTES));
    }

    @Override
    public void started(FileEntry file, int index, int count) {
        moved = 0;
        bar = file.size() < SHOWN_FROM ? null : bars.start(file.progressLabel(index, count), file.size());
    }

    @Override
    public void moved(long bytes) {
        moved += bytes;
        if (bar != null) bar.update(moved, "");
    }

    @Override
    public void finished(FileEntry file) {
        if (bar != null) bar.finish(moved, "");
    }
}
