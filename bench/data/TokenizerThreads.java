import dev.pricer.core.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Whether curation's worker threads should share one tokenizer or each have their own. `pricer data curate` shares
 * one; the course's pipeline has one per process. Older Hugging Face tokenizers keep a BPE cache behind a single
 * read-write lock, whose atomics every thread's lookups contend on (huggingface/tokenizers#1900, #2028), which a
 * 2-core machine cannot show. Encodes the catalog's first lines (cut to 1,500 characters, about curation's text
 * size) with THREADS threads, sharing one tokenizer and with one each, in turns, and prints texts per second as
 * JSON lines.
 *
 * <p>Usage, with the fat jar (or stage-device.sh's) on the class path:
 * {@code java -cp pricer.jar:classes TokenizerThreads TOKENIZER CATALOG TEXTS ROUNDS THREADS...}
 */
public final class TokenizerThreads {

    public static void main(String[] args) throws Exception {
        Path tokenizer = Path.of(args[0]);
        int count = Integer.parseInt(args[2]), rounds = Integer.parseInt(args[3]);
        List<String> texts = new ArrayList<>(count);
        try (var lines = Files.lines(Path.of(args[1]))) {
            lines.limit(count).forEach(line -> texts.add(line.substring(0, Math.min(line.length(), 1500))));
        }
        for (int a = 4; a < args.length; a++) {
            int threads = Integer.parseInt(args[a]);
            List<Tokenizer> own = new ArrayList<>();
            for (int t = 0; t < threads; t++) own.add(Tokenizer.load(tokenizer));
            for (int round = 0; round < rounds; round++) {
                for (boolean shared : new boolean[]{true, false}) {
                    double seconds = encodeAll(texts, threads, t -> shared ? own.getFirst() : own.get(t));
                    System.out.printf(Locale.ROOT, "{\"threads\": %d, \"tokenizers\": \"%s\", \"round\": %d, \"texts_per_s\": %.0f}%n",
                            threads, shared ? "shared" : "one a thread", round, texts.size() / seconds);
                }
            }
            own.forEach(Tokenizer::close);
        }
    }

    private interface TokenizerOf {
        Tokenizer forThread(int thread);
    }

    /** Seconds for the threads to encode every text, each thread every {@code threads}-th one. */
    private static double encodeAll(List<String> texts, int threads, TokenizerOf tokenizers) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            long start = System.nanoTime();
            List<Future<Long>> work = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Tokenizer tokenizer = tokenizers.forThread(t);
                int first = t;
                work.add(pool.submit(() -> {
                    long tokens = 0;
                    for (int i = first; i < texts.size(); i += threads) tokens += tokenizer.encode(texts.get(i), false).length;
                    return tokens;
                }));
            }
            for (Future<Long> f : work) f.get();
            return (System.nanoTime() - start) / 1e9;
        } finally {
            pool.shutdown();
        }
    }
}
