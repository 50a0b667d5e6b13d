package dev.pricer.hub;

/** A file in a commit's tree: its path, size in bytes and the sha256 of its content (its blob's id). */
public record FileEntry(String path, long size, String sha256) {

    /** What a transfer of several files calls this one, file {@code index} (from 0) of {@code count}: "[2/7] model.safetensors". */
    public String progressLabel(int index, int count) {
        return "[%d/%d] %s".formatted(index + 1, count, path);
    }

    /** A size as people read it: 512 B, 47.6 kB, 2.5 MB, 4.98 GB. */
    public static String readable(long bytes) {
        return bytes < 1000 ? bytes + " B" : bytes < 1_000_000 ? "%.1f kB".formatted(bytes / 1e3)
            : bytes < 1_000_000_000 ? "%.1f MB".formatted(bytes / 1e6) : "%.2f GB".formatted(bytes / 1e9);
    }
}
