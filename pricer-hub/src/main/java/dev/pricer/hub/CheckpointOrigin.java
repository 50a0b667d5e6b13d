package dev.pricer.hub;

import java.util.Collection;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The training step a checkpoint commit saved, and the tracked run it belongs to (null when the run was not
 * tracked). The trainer writes both as trailers of the commit message, as git does ({@code Step: 200},
 * {@code Run: <tracked run id>}), and tags the commit {@code step-200}; commits made before trailers existed
 * still have the tag, which gives the step alone. The other way, the tracked run names its repository in its
 * config, under {@value #RUN_CONFIG_KEY}.
 */
public record CheckpointOrigin(long step, String runId) {

    /** The config key of a tracked run that names the hub repository its checkpoints are committed to. */
    public static final String RUN_CONFIG_KEY = "hub.repo";

    private static final Pattern STEP = Pattern.compile("(?m)^Step: (\\d{1,18})$");
    private static final Pattern RUN = Pattern.compile("(?m)^Run: ([A-Za-z0-9._-]{1,64})$");
    private static final Pattern STEP_TAG = Pattern.compile("step-(\\d{1,18})");

    public CheckpointOrigin {
        if (step < 0) throw new IllegalArgumentException("step " + step + " is negative");
    }

    /** {@code title}, a blank line, then the trailers. */
    public String message(String title) {
        return title + "\n\n" + "Step: " + step + (runId == null ? "" : "\nRun: " + runId);
    }

    /** The tag the trainer puts on the commit. */
    public String tag() {
        return "step-" + step;
    }

    /** From the trailers in the last paragraph of a commit message. */
    public static Optional<CheckpointOrigin> ofMessage(String message) {
        int lastParagraph = message.lastIndexOf("\n\n");
        if (lastParagraph < 0) return Optional.empty();
        String trailers = message.substring(lastParagraph + 2);
        Matcher step = STEP.matcher(trailers);
        if (!step.find()) return Optional.empty();
        Matcher run = RUN.matcher(trailers);
        return Optional.of(new CheckpointOrigin(Long.parseLong(step.group(1)), run.find() ? run.group(1) : null));
    }

    /** From the message's trailers, else from a {@code step-N} tag on the commit. */
    public static Optional<CheckpointOrigin> of(CommitInfo commit, Collection<String> tags) {
        Optional<CheckpointOrigin> fromMessage = ofMessage(commit.message());
        if (fromMessage.isPresent()) return fromMessage;
        return tags.stream().map(CheckpointOrigin::stepOfTag).filter(OptionalLong::isPresent)
                .map(step -> new CheckpointOrigin(step.getAsLong(), null)).findFirst();
    }

    static OptionalLong stepOfTag(String tag) {
        Matcher m = STEP_TAG.matcher(tag);
        return m.matches() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
    }
}
