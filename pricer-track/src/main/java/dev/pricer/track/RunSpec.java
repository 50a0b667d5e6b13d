package dev.pricer.track;

import dev.pricer.track.model.Names;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a new run records about itself. Null {@code name} means a name from the start time; null
 * {@code command} and {@code gitCommit} mean this JVM's command line and the working folder's git commit.
 * {@code config} may nest maps: they are flattened with dots ({@code lora.r}).
 */
public record RunSpec(String project, String name, Map<String, ?> config, List<String> tags, String notes,
                      String command, String gitCommit) {

    public RunSpec {
        Names.require("a run's project name", project, Names.PROJECT);
        if (name != null) Names.require("a run name", name, Names.NAME);
        config = config == null ? Map.of() : config;
        tags = tags == null ? List.of() : List.copyOf(tags);
    }

    public static RunSpec of(String project) {
        return new RunSpec(project, null, Map.of(), List.of(), null, null, null);
    }

    public RunSpec withName(String newName) {
        return new RunSpec(project, newName, config, tags, notes, command, gitCommit);
    }

    public RunSpec withConfig(Map<String, ?> newConfig) {
        return new RunSpec(project, name, newConfig, tags, notes, command, gitCommit);
    }

    public RunSpec withTags(List<String> newTags) {
        return new RunSpec(project, name, config, newTags, notes, command, gitCommit);
    }

    public RunSpec withNotes(String newNotes) {
        return new RunSpec(project, name, config, tags, newNotes, command, gitCommit);
    }

    public RunSpec withCommand(String newCommand) {
        return new RunSpec(project, name, config, tags, notes, newCommand, gitCommit);
    }

    public RunSpec withGitCommit(String newCommit) {
        return new RunSpec(project, name, config, tags, notes, command, newCommit);
    }

    /** The config as flat text: nested maps become dotted keys, everything else its string form. */
    public Map<String, String> flatConfig() {
        Map<String, String> flat = new LinkedHashMap<>();
        flatten("", config, flat);
        return flat;
    }

    private static void flatten(String prefix, Map<?, ?> map, Map<String, String> out) {
        for (var e : map.entrySet()) {
            String key = prefix + e.getKey();
            if (e.getValue() instanceof Map<?, ?> nested) flatten(key + ".", nested, out);
            else out.put(key, String.valueOf(e.getValue()));
        }
    }
}
