package dev.pricer.hub.store;

/** Content stored once under its sha256. */
public record Blob(String sha256, long size) {
}
