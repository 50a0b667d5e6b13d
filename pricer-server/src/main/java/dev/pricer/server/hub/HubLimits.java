package dev.pricer.server.hub;

/**
 * Size limits of the hub server. {@code lfsThreshold}: files at least this big go through Git LFS (as on the
 * Hugging Face Hub, 10 MB); {@code maxInlineFile}: the most a base64 file line of a commit may carry;
 * {@code maxFile}: the most any one file may have; {@code maxCommitBody}: the most an NDJSON commit body may have.
 */
public record HubLimits(long lfsThreshold, long maxInlineFile, long maxFile, long maxCommitBody) {

    public static final HubLimits DEFAULT = new HubLimits(10L << 20, 10L << 20, 50L << 30, 64L << 20);

    public HubLimits {
        if (lfsThreshold <= 0 || maxInlineFile <= 0 || maxFile <= 0 || maxCommitBody <= 0) {
            throw new IllegalArgumentException("hub limits must be positive: " + lfsThreshold + ", " + maxInlineFile + ", " + maxFile + ", " + maxCommitBody);
        }
    }

    /** {@code PRICER_HUB_LFS_THRESHOLD}, {@code PRICER_HUB_MAX_INLINE_FILE}, {@code PRICER_HUB_MAX_FILE}, {@code PRICER_HUB_MAX_COMMIT_BODY} in bytes. */
    public static HubLimits fromEnvironment(java.util.Map<String, String> env) {
        return new HubLimits(
            bytes(env, "PRICER_HUB_LFS_THRESHOLD", DEFAULT.lfsThreshold),
            bytes(env, "PRICER_HUB_MAX_INLINE_FILE", DEFAULT.maxInlineFile),
            bytes(env, "PRICER_HUB_MAX_FILE", DEFAULT.maxFile),
            bytes(env, "PRICER_HUB_MAX_COMMIT_BODY", DEFAULT.maxCommitBody));
    }

    private static long bytes(java.util.Map<String, String> env, String name, long fallback) {
        String value = env.get(name);
        if (value == null || value.isBlank()) return fallback;
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "='" + value + "' is not a number of bytes");
        }
    }
}
