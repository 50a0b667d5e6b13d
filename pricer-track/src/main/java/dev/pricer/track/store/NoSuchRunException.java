package dev.pricer.track.store;

/** A run id that the store does not hold. */
public final class NoSuchRunException extends StoreException {

    private final String runId;

    public NoSuchRunException(String runId) {
        super("no run with id '" + runId + "'");
        this.runId = runId;
    }

    public String runId() {
        return runId;
    }
}
