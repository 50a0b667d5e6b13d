package dev.pricer.core.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * A Hugging Face {@code tokenizer.json}, read through DJL's binding of the Rust tokenizers library.
 * It needs no network: the file is read locally and the native library ships inside DJL's jar.
 * Accepts a model folder, a {@code tokenizer.json}, or a gzipped {@code tokenizer.json.gz}.
 */
public final class Tokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer hf;
    private final Path source;

    private Tokenizer(HuggingFaceTokenizer hf, Path source) {
        this.hf = hf;
        this.source = source;
    }

    public static Tokenizer load(Path path) {
        // On a machine with a GPU, DJL would otherwise look for (and try to download) a CUDA build of the native
        // library; tokenizing needs only the CPU build, which ships in DJL's jar, so machines offline work too.
        if (System.getenv("RUST_FLAVOR") == null && System.getProperty("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new UncheckedIOException(new NoSuchFileException(file.toString(), null, "no tokenizer.json here"));
        }
        // Special tokens are added by the caller's choice, never silently; truncation and padding are the collator's job.
        Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
        try (InputStream in = open(file)) {
            return new Tokenizer(HuggingFaceTokenizer.newInstance(in, options), file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer " + file, e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid tokenizer file " + file + ": " + e.getMessage(), e);
        }
    }

    private static InputStream open(Path file) throws IOException {
        InputStream in = Files.newInputStream(file);
        return file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(in) : in;
    }

    /** Token ids of {@code text}; with {@code addSpecialTokens} the tokenizer's post-processor adds BOS and the like. */
    public int[] encode(String text, boolean addSpecialTokens) {
        Encoding encoding = hf.encode(text, addSpecialTokens, false);
        long[] ids = encoding.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    public String decode(int[] ids) {
        long[] wide = new long[ids.length];
        for (int i = 0; i < ids.length; i++) wide[i] = ids[i];
        return hf.decode(wide, false);
    }

    public String decodeSkippingSpecial(int[] ids) {
        long[] wide = new long[ids.length];
        for (int i = 0; i < ids.length; i++) wide[i] = ids[i];
        return hf.decode(wide, true);
    }

    public Path source() {
        return source;
    }

    @Override
    public void close() {
        hf.close();
    }
}
