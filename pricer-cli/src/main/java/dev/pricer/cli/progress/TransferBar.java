package dev.pricer.cli.progress;

import dev.pricer.hub.FileEntry;
import dev.pricer.hub.TransferProgress;

import java.io.PrintWriter;

/** A bar of bytes for each file a download or a push moves, labelled "[2/7] model-00002-of-00004.safetensors". */
public final class TransferBar implements TransferProgress {

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
        bar = bars.start(file.progressLabel(index, count), file.size());
    }

    @Override
    public void moved(long bytes) {
        moved += bytes;
        bar.update(moved, "");
    }

    @Override
    public void finished(FileEntry file) {
        bar.finish(moved, "");
    }
}
