package dev.pricer.hub;

/**
 * What a download or a push tells as it moves files, for a progress bar: each file as it starts, its bytes as they
 * move, and its end. A large model file takes minutes, so a line per file is not enough. Calls come from the thread
 * doing the transfer, one file at a time.
 */
public interface TransferProgress {

    TransferProgress NONE = new TransferProgress() {
        @Override
        public void started(FileEntry file, int index, int count) {
        }

        @Override
        public void moved(long bytes) {
        }

        @Override
        public void finished(FileEntry file) {
        }
    };

    /** File {@code index} (from 0) of {@code count} starts; a push's files have no sha256 yet. */
    void started(FileEntry file, int index, int count);

    /** {@code bytes} more of the file started last have moved. */
    void moved(long bytes);

    /** The file started last is complete. */
    void finished(FileEntry file);
}
