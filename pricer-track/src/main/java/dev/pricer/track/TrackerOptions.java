package dev.pricer.track;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Where a {@link Tracker} keeps runs: the local store under {@code home}, and, when {@code server} is set,
 * a Pricer server it streams to (with {@code token} when the server wants one).
 */
public record TrackerOptions(Path home, URI server, String token, Duration systemMetricsEvery) {

    public static final Duration DEFAULT_SYSTEM_METRICS_EVERY = Duration.ofSeconds(5);

    public TrackerOptions {
        if (home == null) throw new IllegalArgumentException("TrackerOptions.home is required");
        if (systemMetricsEvery == null || systemMetricsEvery.isNegative()) systemMetricsEvery = Duration.ZERO;
    }

    public static TrackerOptions local(Path home) {
        return new TrackerOptions(home, null, null, DEFAULT_SYSTEM_METRICS_EVERY);
    }

    /** {@code PRICER_HOME} (default {@code ~/.pricer}), {@code PRICER_SERVER} and {@code PRICER_TOKEN}. */
    public static TrackerOptions fromEnvironment() {
        String server = System.getenv("PRICER_SERVER");
        return new TrackerOptions(defaultHome(), server == null || server.isBlank() ? null : URI.create(server),
                System.getenv("PRICER_TOKEN"), DEFAULT_SYSTEM_METRICS_EVERY);
    }

    public static Path defaultHome() {
        String home = System.getenv("PRICER_HOME");
        return home != null && !home.isBlank() ? Path.of(home) : Path.of(System.getProperty("user.home"), ".pricer");
    }

    public TrackerOptions withServer(URI newServer) {
        return new TrackerOptions(home, newServer, token, systemMetricsEvery);
    }

    public TrackerOptions withToken(String newToken) {
        return new TrackerOptions(home, server, newToken, systemMetricsEvery);
    }

    public TrackerOptions withSystemMetricsEvery(Duration every) {
        return new TrackerOptions(home, server, token, every);
    }
}
