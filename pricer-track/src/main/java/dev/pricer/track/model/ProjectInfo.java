package dev.pricer.track.model;

/** A project and how many runs it holds. */
public record ProjectInfo(String name, long createdMs, int runs, Long lastStartedMs) {
}
