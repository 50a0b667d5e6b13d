package dev.pricer.hub;

/** A file in a commit's tree: its path, size in bytes and the sha256 of its content (its blob's id). */
public record FileEntry(String path, long size, String sha256) {
}
