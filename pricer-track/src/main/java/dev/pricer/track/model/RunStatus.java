package dev.pricer.track.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;

/** Where a run stands. A run is {@code CRASHED} when its process exited before it ended, or its heartbeats stopped. */
public enum RunStatus {
    RUNNING, FINISHED, FAILED, CRASHED;

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static RunStatus parse(String text) {
        for (RunStatus status : values()) {
            if (status.wire().equalsIgnoreCase(text)) return status;
        }
        throw new IllegalArgumentException("unknown run status '" + text + "' (expected running, finished, failed or crashed)");
    }

    public boolean ended() {
        return this != RUNNING;
    }
}
