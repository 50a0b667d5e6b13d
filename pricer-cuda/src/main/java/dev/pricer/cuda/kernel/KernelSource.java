package dev.pricer.cuda.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code .cu} file of the project's kernels, read from the class path, with the headers it includes
 * ({@code #include "x.cuh"}, resolved next to it). Its {@link #hash()} covers the file and its headers, so
 * editing either makes a new cache entry.
 */
public record KernelSource(String fileName, String text, SequencedMap<String, String> headers) {

    private static final String ROOT = "/dev/pricer/cuda/kernels/";
    private static final Pattern INCLUDE = Pattern.compile("^#include \"([^\"]+)\"", Pattern.MULTILINE);

    public static KernelSource load(String fileName) {
        String text = read(fileName);
        SequencedMap<String, String> headers = new LinkedHashMap<>();
        collectHeaders(text, headers);
        return new KernelSource(fileName, text, headers);
    }

    private static void collectHeaders(String text, SequencedMap<String, String> headers) {
        Matcher m = INCLUDE.matcher(text);
        while (m.find()) {
            String name = m.group(1);
            if (!headers.containsKey(name)) {
                String header = read(name);
                headers.put(name, header);
                collectHeaders(header, headers);
            }
        }
    }

    private static String read(String name) {
        try (InputStream in = KernelSource.class.getResourceAsStream(ROOT + name)) {
            if (in == null) throw new IllegalArgumentException("no kernel source " + ROOT + name + " on the class path");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel source " + name, e);
        }
    }

    /** SHA-256 over the file name, the source, each header by name, and the compiler's name and options. */
    public String hash(String compilerVersion, List<String> options) {
        MessageDigest sha = sha256();
        update(sha, fileName);
        update(sha, text);
        headers.forEach((name, body) -> {
            update(sha, name);
            update(sha, body);
        });
        update(sha, compilerVersion);
        options.forEach(o -> update(sha, o));
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The length prefix keeps ("ab", "c") and ("a", "bc") apart. */
    private static void update(MessageDigest sha, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        sha.update(new byte[]{(byte) (bytes.length >>> 24), (byte) (bytes.length >>> 16), (byte) (bytes.length >>> 8), (byte) bytes.length});
        sha.update(bytes);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
