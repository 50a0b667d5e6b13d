package dev.pricer.hub.store;

import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.MetadataDirective;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Objects in an S3-compatible bucket under a prefix, in the same layout as {@link FileObjectStore}. A PUT is
 * atomic in S3; compare-and-set uses conditional writes ({@code If-None-Match: *} to create,
 * {@code If-Match: <etag>} to replace), which AWS S3, MinIO and R2 honour.
 */
public final class S3ObjectStore implements ObjectStore {

    private static final int PRECONDITION_FAILED = 412;
    private static final int CONFLICTING_WRITE = 409;

    private final S3Client s3;
    private final String bucket;
    private final String prefix;
    private final Path staging;

    public S3ObjectStore(S3Client s3, String bucket, String prefix, Path staging) throws IOException {
        this.s3 = s3;
        this.bucket = bucket;
        this.prefix = prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/";
        this.staging = Files.createDirectories(staging);
    }

    private String key(String key) {
        return prefix + key;
    }

    private Optional<HeadObjectResponse> head(String key) {
        try {
            return Optional.of(s3.headObject(b -> b.bucket(bucket).key(key(key))));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) return Optional.empty();
            throw e;
        }
    }

    @Override
    public Optional<Stat> stat(String key) {
        return head(key).map(head -> new Stat(key, head.contentLength(), head.lastModified()));
    }

    @Override
    public Optional<byte[]> read(String key) {
        try {
            return Optional.of(s3.getObject(b -> b.bucket(bucket).key(key(key)), ResponseTransformer.toBytes()).asByteArray());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        }
    }

    private Optional<Versioned> readVersioned(String key) {
        try {
            var response = s3.getObject(b -> b.bucket(bucket).key(key(key)), ResponseTransformer.toBytes());
            return Optional.of(new Versioned(response.asByteArray(), response.response().eTag()));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        }
    }

    private record Versioned(byte[] content, String etag) {
    }

    @Override
    public InputStream open(String key, long offset, long length) throws IOException {
        if (length == 0) {
            if (head(key).isEmpty()) throw new NoSuchFileException(key);
            return InputStream.nullInputStream();
        }
        GetObjectRequest request = GetObjectRequest.builder().bucket(bucket).key(key(key))
            .range("bytes=" + offset + "-" + (offset + length - 1)).build();
        try {
            return s3.getObject(request);
        } catch (NoSuchKeyException e) {
            throw new NoSuchFileException(key);
        }
    }

    @Override
    public void write(String key, byte[] content) {
        s3.putObject(b -> b.bucket(bucket).key(key(key)), RequestBody.fromBytes(content));
    }

    @Override
    public void moveIn(Path staged, String key) throws IOException {
        try {
            if (head(key).isEmpty()) {
                s3.putObject(b -> b.bucket(bucket).key(key(key)), RequestBody.fromFile(staged));
            } else {
                s3.copyObject(b -> b.sourceBucket(bucket).sourceKey(key(key)).destinationBucket(bucket).destinationKey(key(key))
                    .metadataDirective(MetadataDirective.REPLACE));
            }
        } finally {
            Files.deleteIfExists(staged);
        }
    }

    @Override
    public Path stagingDir() {
        return staging;
    }

    @Override
    public boolean compareAndSet(String key, byte[] expected, byte[] update) {
        PutObjectRequest.Builder put = PutObjectRequest.builder().bucket(bucket).key(key(key));
        if (expected == null) {
            put.ifNoneMatch("*");
        } else {
            Optional<Versioned> current = readVersioned(key);
            if (current.isEmpty() || !Arrays.equals(current.get().content(), expected)) return false;
            if (update == null) {
                try {
                    s3.deleteObject(b -> b.bucket(bucket).key(key(key)).ifMatch(current.get().etag()));
                    return true;
                } catch (S3Exception e) {
                    if (e.statusCode() == PRECONDITION_FAILED) return false;
                    throw e;
                }
            }
            put.ifMatch(current.get().etag());
        }
        try {
            s3.putObject(put.build(), RequestBody.fromBytes(update));
            return true;
        } catch (S3Exception e) {
            if (e.statusCode() == PRECONDITION_FAILED || e.statusCode() == CONFLICTING_WRITE) return false;
            throw e;
        }
    }

    @Override
    public List<Stat> list(String keyPrefix) {
        List<Stat> stats = new ArrayList<>();
        ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(bucket).prefix(key(keyPrefix)).build();
        for (S3Object object : s3.listObjectsV2Paginator(request).contents()) {
            stats.add(new Stat(object.key().substring(prefix.length()), object.size(), object.lastModified()));
        }
        return stats;
    }

    @Override
    public void delete(String key) {
        s3.deleteObject(b -> b.bucket(bucket).key(key(key)));
    }

    @Override
    public void close() {
        s3.close();
    }
}
