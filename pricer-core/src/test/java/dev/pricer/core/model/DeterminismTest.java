package dev.pricer.core.model;

import dev.pricer.core.Fixtures;
import dev.pricer.core.backend.AdamW;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.lora.LoraConfig;
import dev.pricer.core.tensor.DType;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CPU backend's determinism rule: the same inputs give the same bits, whichever JIT tier runs the kernels
 * (interpreter, C1, C2) and however many threads they run on. The workload is two optimizer steps, each of two
 * accumulated micro-batches, of a LoRA model with dropout on every projection and of a fully trained model
 * with tied embeddings, so that every kernel of training runs: attention, SwiGLU, RMSNorm with its weight
 * gradient, cross-entropy, dropout, the embedding scatter, both matmul paths, sum of squares and AdamW.
 * What is compared is every loss, gradient norm, gradient and parameter, as raw bits.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
public class DeterminismTest {

    /** The bits of every number the workload produces, by name. */
    static Map<String, long[]> workload() {
        Map<String, long[]> out = new LinkedHashMap<>();
        Backend backend = new CpuBackend();
        try (LlamaModel lora = LlamaModel.load(Fixtures.model("tiny-llama"), backend)) {
            lora.createAdapter(new LoraConfig(4, 8, 0.1, LoraConfig.ALL_PROJECTIONS, false), 11);
            train("lora", lora, backend, out);
        }
        try (LlamaModel full = LlamaModel.loadForFullTraining(Fixtures.model("tiny-llama-tied"), backend)) {
            train("full", full, backend, out);
        }
        return out;
    }

    private static void train(String name, LlamaModel model, Backend backend, Map<String, long[]> out) {
        int vocab = model.config().vocabSize();
        // Ragged sequences: padding, masked keys and vector tails everywhere; 57 rows take the packed matmul,
        // the 13 of the second micro-batch the unpacked one.
        Batch first = batch(new int[]{19, 11, 7}, vocab, 1), second = batch(new int[]{13}, vocab, 2);
        Map<String, Buffer> m = new LinkedHashMap<>(), v = new LinkedHashMap<>();
        for (Parameter p : model.trainableParameters()) {
            m.put(p.name(), backend.allocate(DType.F32, p.value().length()));
            v.put(p.name(), backend.allocate(DType.F32, p.value().length()));
        }
        for (int step = 1; step <= 2; step++) {
            model.seedDropout(step);
            model.zeroGradients();
            long tokens = first.labelTokens() + second.labelTokens();
            double loss = model.forwardBackward(first, 1f / tokens).sum() + model.forwardBackward(second, 1f / tokens).sum();
            double sumOfSquares = 0;
            for (Parameter p : model.trainableParameters()) sumOfSquares += backend.sumOfSquares(p.grad());
            out.put(name + ".step" + step + ".loss", new long[]{Double.doubleToRawLongBits(loss), Double.doubleToRawLongBits(sumOfSquares)});
            for (Parameter p : model.trainableParameters()) out.put(name + ".step" + step + ".grad." + p.name(), bits(model, p.grad(), p.shape()));
            float clip = (float) Math.min(1.0, 0.5 / (Math.sqrt(sumOfSquares) + 1e-6));
            AdamW hyper = new AdamW(1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, step);
            for (Parameter p : model.trainableParameters()) {
                backend.scale(p.grad(), clip);
                backend.adamw(p.value(), p.grad(), m.get(p.name()), v.get(p.name()), hyper);
            }
        }
        for (Parameter p : model.trainableParameters()) out.put(name + ".trained." + p.name(), bits(model, p.value(), p.shape()));
        out.put(name + ".eval", new long[]{Double.doubleToRawLongBits(model.loss(first).sum())});
    }

    /** Sequences of the given lengths, seeded; the second half of each is labelled. */
    private static Batch batch(int[] lengths, int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[][] ids = new int[lengths.length][], labels = new int[lengths.length][];
        for (int s = 0; s < lengths.length; s++) {
            ids[s] = random.ints(lengths[s], 0, vocab).toArray();
            labels[s] = ids[s].clone();
            Arrays.fill(labels[s], 0, lengths[s] / 2, -100);
        }
        return Batch.rightPadded(ids, labels);
    }

    private static long[] bits(LlamaModel model, Buffer buffer, long[] shape) {
        float[] values = model.download(buffer, shape).toFloatArray();
        long[] out = new long[values.length];
        for (int i = 0; i < values.length; i++) out[i] = Float.floatToRawIntBits(values[i]);
        return out;
    }

    private static void assertSameBits(Map<String, long[]> want, Map<String, long[]> got, String what) {
        assertEquals(want.keySet(), got.keySet(), what);
        for (String name : want.keySet()) {
            long[] a = want.get(name), b = got.get(name);
            assertEquals(a.length, b.length, what + ": " + name);
            for (int i = 0; i < a.length; i++) {
                if (a[i] != b[i]) {
                    throw new AssertionError(what + ": " + name + "[" + i + "] differs: " + Long.toHexString(a[i]) + " vs " + Long.toHexString(b[i]));
                }
            }
        }
    }

    /** The workload's bits once C2 has compiled the kernels: a few dozen runs are enough at these shapes. */
    private static Map<String, long[]> warm;

    private static Map<String, long[]> warm() {
        if (warm == null) {
            for (int i = 0; i < 30; i++) workload();
            warm = workload();
        }
        return warm;
    }

    /**
     * The first run's kernels are interpreted or C1-compiled (fully so when this class runs first in its JVM),
     * with the Vector API's Java fallback; after warm-up C2 has compiled them to vector intrinsics. Same bits.
     */
    @Test
    @Order(1)
    void codeCompiledByC2GivesTheBitsOfColdCode() {
        Map<String, long[]> cold = workload();
        assertSameBits(cold, warm(), "after warm-up");
    }

    /**
     * A fresh JVM that never goes past C1 (so no vector intrinsics, as in the interpreter), with one kernel
     * thread and a common fork-join pool of one, gives the bits of this JVM, where C2 has compiled the kernels
     * and they run on all cores.
     */
    @Test
    void aFreshJvmWithoutC2AndWithOneThreadGivesTheSameBits(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bits");
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1",
                "-Dpricer.threads=1", "-Djava.util.concurrent.ForkJoinPool.common.parallelism=1",
                "-cp", System.getProperty("java.class.path"), DeterminismTest.class.getName(), file.toString());
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes());
        assertTrue(child.waitFor(5, TimeUnit.MINUTES), "child JVM finished");
        assertEquals(0, child.exitValue(), output);
        assertSameBits(warm(), read(file), "JVM without C2, one thread");
    }

    /** Runs the workload once and writes its bits to {@code args[0]}: the fresh JVM of {@link #aFreshJvmWithoutC2AndWithOneThreadGivesTheSameBits}. */
    public static void main(String[] args) throws IOException {
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(Path.of(args[0])))) {
            Map<String, long[]> bits = workload();
            out.writeInt(bits.size());
            for (Map.Entry<String, long[]> e : bits.entrySet()) {
                out.writeUTF(e.getKey());
                out.writeInt(e.getValue().length);
                for (long b : e.getValue()) out.writeLong(b);
            }
        }
    }

    private static Map<String, long[]> read(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(Files.newInputStream(file))) {
            Map<String, long[]> bits = new LinkedHashMap<>();
            for (int n = in.readInt(); n > 0; n--) {
                String name = in.readUTF();
                long[] values = new long[in.readInt()];
                for (int i = 0; i < values.length; i++) values[i] = in.readLong();
                bits.put(name, values);
            }
            return bits;
        }
    }
}
