package dev.pricer.hub.store;

/** How one path differs between a commit and its parent; a size is -1 where the file is absent on that side. */
public record Change(String path, Kind kind, long oldSize, long newSize) {
    public enum Kind { ADDED, CHANGED, REMOVED }
}
