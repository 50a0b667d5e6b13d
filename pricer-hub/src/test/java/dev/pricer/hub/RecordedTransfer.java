package dev.pricer.hub;

import java.util.ArrayList;
import java.util.List;

/** A {@link TransferProgress} that writes down what it heard: "[1/2] x.txt", then "x.txt: N bytes" at its end. */
public final class RecordedTransfer implements TransferProgress {

    public final List<String> events = new ArrayList<>();
    private long moved;

    @Override
    public void started(FileEntry file, int index, int count) {
        events.add(file.progressLabel(index, count));
        moved = 0;
    }

    @Override
    public void moved(long bytes) {
        moved += bytes;
    }

    @Override
    public void finished(FileEntry file) {
        events.add(file.path() + ": " + moved + " bytes");
    }
}
