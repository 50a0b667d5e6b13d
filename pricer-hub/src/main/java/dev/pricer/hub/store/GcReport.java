package dev.pricer.hub.store;

/** What a garbage collection removed and kept. */
public record GcReport(int blobsRemoved, long bytesRemoved, int blobsKept, int commitsRemoved, int treesRemoved) {
}
