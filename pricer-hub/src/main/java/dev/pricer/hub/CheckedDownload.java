package dev.pricer.hub;

import dev.pricer.hub.store.Hashing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.function.LongConsumer;

/** Writes a download so that {@code target} is either untouched or complete and checked, never half-written. */
public final class CheckedDownload {

    private CheckedDownload() {
    }

    /**
     * Copies {@code in} to a temporary file beside {@code target}, checks its size (unless -1) and sha256 (unless
     * null), then renames it over {@code target}. {@code moved} hears of the bytes as they are copied.
     */
    public static Path write(InputStream in, String sha256, long size, Path target, LongConsumer moved) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, "." + target.getFileName(), ".part");
        try {
            MessageDigest digest = Hashing.sha256();
            long copied;
            try (OutputStream out = Files.newOutputStream(temp); DigestInputStream digesting = new DigestInputStream(new ReportingInputStream(in, moved), digest)) {
                copied = digesting.transferTo(out);
            }
            String actual = Hashing.hex(digest);
            if ((size >= 0 && copied != size) || (sha256 != null && !actual.equals(sha256))) {
                throw new HubException.Invalid("download to " + target + " has " + copied + " bytes and sha256 " + actual + " but "
                    + size + " bytes" + (sha256 == null ? "" : " and sha256 " + sha256) + " were announced; the target was left as it was");
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } finally {
            Files.deleteIfExists(temp);
        }
    }
}
