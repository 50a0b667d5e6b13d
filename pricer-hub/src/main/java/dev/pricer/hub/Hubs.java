package dev.pricer.hub;

import dev.pricer.hub.http.HfHttpClient;
import dev.pricer.hub.store.FileObjectStore;
import dev.pricer.hub.store.HubStore;
import dev.pricer.hub.store.ObjectStore;
import dev.pricer.hub.store.S3ObjectStore;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;

/**
 * Opens hubs. From the environment: {@code PRICER_HUB_URL}, else {@code PRICER_SERVER} (the server runs are tracked on
 * serves the hub too, so a run's checkpoints land beside it), with the token {@link #token} finds, selects a remote hub;
 * otherwise the local store, which is {@code PRICER_HUB_STORE=s3://bucket/prefix} (endpoint
 * from {@code AWS_ENDPOINT_URL}, credentials and region the AWS SDK's usual way) or {@code PRICER_HOME/hub}
 * ({@code PRICER_HOME} defaults to {@code ~/.pricer}).
 */
public final class Hubs {

    private Hubs() {
    }

    public static HubClient fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    public static HubClient fromEnvironment(Map<String, String> env) {
        for (String name : new String[]{"PRICER_HUB_URL", "PRICER_SERVER"}) {
            String url = env.get(name);
            if (url != null && !url.isBlank()) return remote(URI.create(url), token(env));
        }
        return new LocalHub(store(env), env.getOrDefault("PRICER_USER", System.getProperty("user.name", "pricer")));
    }

    /**
     * The token for a Pricer server: {@code PRICER_HUB_TOKEN}, else {@code PRICER_TOKEN} (the one the tracking client
     * sends: a server's tokens serve both), else {@code HF_TOKEN}; null when none is set.
     */
    public static String token(Map<String, String> env) {
        for (String name : new String[]{"PRICER_HUB_TOKEN", "PRICER_TOKEN", "HF_TOKEN"}) {
            String value = env.get(name);
            if (value != null && !value.isBlank()) return value;
        }
        return null;
    }

    /** The local store the environment names (see the class comment). */
    public static HubStore store(Map<String, String> env) {
        Path home = pricerHome(env);
        String s3 = env.get("PRICER_HUB_STORE");
        try {
            if (s3 != null && s3.startsWith("s3://")) {
                URI location = URI.create(s3);
                S3ClientBuilder builder = S3Client.builder();
                String endpoint = env.getOrDefault("AWS_ENDPOINT_URL_S3", env.get("AWS_ENDPOINT_URL"));
                if (endpoint != null) compatible(builder, URI.create(endpoint));
                if (env.get("AWS_REGION") == null && env.get("AWS_DEFAULT_REGION") == null) builder.region(Region.US_EAST_1);
                String prefix = location.getPath() == null ? "" : location.getPath().replaceFirst("^/", "");
                return new HubStore(new S3ObjectStore(builder.build(), location.getHost(), prefix, home.resolve("hub-staging")));
            }
            return local(home.resolve("hub"));
        } catch (IOException e) {
            throw new HubException.Failure("cannot open the hub store under " + home + ": " + e, e);
        }
    }

    /**
     * Points an S3 client at an S3-compatible server (MinIO, R2, ...): path-style bucket addressing, plain bodies
     * and checksums only where the API requires them, since not every such server decodes the SDK's default
     * aws-chunked bodies and trailing checksums.
     */
    public static S3ClientBuilder compatible(S3ClientBuilder builder, URI endpoint) {
        return builder.endpointOverride(endpoint).forcePathStyle(true)
            .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    }

    /** The process's environment with {@code PRICER_HOME} set to {@code home}: a command's --home, whose local hub is beside its runs. */
    public static Map<String, String> environment(Path home) {
        Map<String, String> env = new java.util.HashMap<>(System.getenv());
        env.put("PRICER_HOME", home.toString());
        return env;
    }

    public static Path pricerHome(Map<String, String> env) {
        String home = env.get("PRICER_HOME");
        return home != null && !home.isBlank() ? Path.of(home) : Path.of(System.getProperty("user.home"), ".pricer");
    }

    /** The store in a local folder. */
    public static HubStore local(Path root) {
        try {
            ObjectStore objects = new FileObjectStore(root);
            return new HubStore(objects);
        } catch (IOException e) {
            throw new HubException.Failure("cannot open the hub store at " + root + ": " + e, e);
        }
    }

    /** A hub server (Pricer's, or any speaking the Hugging Face Hub protocol) at {@code endpoint}; {@code token} may be null. */
    public static HubClient remote(URI endpoint, String token) {
        return new HfHttpClient(endpoint, token);
    }

    /** The Hugging Face Hub the way its own clients find it: {@code HF_ENDPOINT} (default https://huggingface.co) and {@code HF_TOKEN}. */
    public static HubClient huggingFace(Map<String, String> env) {
        return remote(URI.create(env.getOrDefault("HF_ENDPOINT", "https://huggingface.co")), env.get("HF_TOKEN"));
    }
}
