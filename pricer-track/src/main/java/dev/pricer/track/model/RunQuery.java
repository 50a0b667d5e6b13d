package dev.pricer.track.model;

/**
 * Which runs of a project to list: each filter is optional (null). {@code configKey}/{@code configValue}
 * keep runs whose flattened config has that exact value. {@code sort} is one of name, started, status,
 * duration, or {@code config.KEY} / {@code metric.KEY} to sort by a config or last metric value.
 */
public record RunQuery(String project, RunStatus status, String tag, String configKey, String configValue,
                       String sort, boolean descending, int limit) {

    public static RunQuery project(String project) {
        return new RunQuery(project, null, null, null, null, "started", true, 1000);
    }

    public RunQuery withStatus(RunStatus s) {
        return new RunQuery(project, s, tag, configKey, configValue, sort, descending, limit);
    }

    public RunQuery withTag(String t) {
        return new RunQuery(project, status, t, configKey, configValue, sort, descending, limit);
    }

    public RunQuery withConfig(String key, String value) {
        return new RunQuery(project, status, tag, key, value, sort, descending, limit);
    }

    public RunQuery sortedBy(String by, boolean desc) {
        return new RunQuery(project, status, tag, configKey, configValue, by, desc, limit);
    }
}
