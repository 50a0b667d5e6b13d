package dev.pricer.hub;

import java.time.Instant;

/** One commit: its sha, its parent (null for the first), who made it, when, and the message. */
public record CommitInfo(String sha, String parent, String author, Instant time, String message) {

    /** The first line of the message. */
    public String title() {
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
