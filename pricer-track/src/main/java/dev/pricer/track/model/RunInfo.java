package dev.pricer.track.model;

import java.util.List;
import java.util.Map;

/** Everything known about a run except its metric histories; {@code lastValues} is each key's latest value. */
public record RunInfo(String id, String project, String name, String colour, RunStatus status,
                      long startedMs, Long endedMs, long heartbeatMs, String host, String gitCommit,
                      String command, String notes, List<String> tags, Map<String, String> config,
                      long lastSeq, Map<String, Double> lastValues) {

    public RunInfo {
        tags = tags == null ? List.of() : List.copyOf(tags);
        config = config == null ? Map.of() : Map.copyOf(config);
        lastValues = lastValues == null ? Map.of() : Map.copyOf(lastValues);
    }

    public RunInfo withStatus(RunStatus newStatus) {
        return new RunInfo(id, project, name, colour, newStatus, startedMs, endedMs, heartbeatMs, host, gitCommit,
                command, notes, tags, config, lastSeq, lastValues);
    }
}
