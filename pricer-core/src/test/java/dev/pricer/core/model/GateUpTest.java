package dev.pricer.core.model;

import dev.pricer.core.Fixtures;
import dev.pricer.core.backend.AttentionShape;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.config.LlamaConfig;
import dev.pricer.core.lora.LoraConfig;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.safetensors.SafeTensorsWriter;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A frozen float base holds each layer's gate and up weights in one buffer ({@link GateUp}), and where neither
 * has an adapter the MLP's input gradient is one product over it: the same gradients as two products, up to
 * float32 rounding, and the same weights for everything else that reads them.
 */
class GateUpTest {

    private static final List<String> ATTENTION = List.of("q_proj", "k_proj", "v_proj", "o_proj");

    /**
     * One layer's backward pass twice from the same forward pass: as loaded (one product) and as a twin over the
     * same weights without the joined buffer (two products). LoRA with dropout on the attention projections, as
     * in the benchmark, so its gradients depend on what the MLP passes back.
     */
    @Test
    void oneProductOverTheJoinedWeightsGivesTheGradientsOfTwo() {
        Backend be = new CpuBackend();
        try (LlamaModel model = LlamaModel.load(Fixtures.model("tiny-llama"), be)) {
            model.createAdapter(new LoraConfig(4, 8, 0.1, ATTENTION, false), 5);
            for (Parameter p : model.trainableParameters()) if (p.name().contains("lora_B")) be.fill(p.value(), 0.01f);
            LlamaConfig c = model.config();
            DecoderLayer joined = model.layers()[1];
            assertNotNull(joined.gateUp);
            DecoderLayer apart = new DecoderLayer(joined.index, c, joined.inputNorm, joined.postNorm, null, null, joined.linears, null);

            int batch = 2, seq = 9, rows = batch * seq;
            AttentionShape shape = new AttentionShape(batch, seq, seq, 0, c.numHeads(), c.numKvHeads(), c.headDim());
            int[] positions = new int[rows];
            for (int i = 0; i < rows; i++) positions[i] = i % seq;
            Pass pass = new Pass(rows, shape, ints(be, positions), ints(be, new int[]{seq, seq - 3}), true, 77);
            model.rope().ensure(seq);
            LayerActivations a = LayerActivations.allocate(be, c, rows, null, null, be.attentionSavedLength(shape), model.loraRanks(), true);
            Workspace w = Workspace.allocate(be, c, rows, IntStream.of(model.loraRanks()).sum(), true);
            SplittableRandom rnd = new SplittableRandom(3);
            Buffer x = floats(be, random(rnd, rows * c.hiddenSize())), out = be.allocate(DType.F32, (long) rows * c.hiddenSize());
            float[] dOut = random(rnd, rows * c.hiddenSize());
            joined.forward(be, x, out, a, a.k(), a.v(), null, pass, model.rope(), w);

            List<float[]> one = backward(model, joined, x, dOut, a, pass, w), two = backward(model, apart, x, dOut, a, pass, w);
            List<String> names = new ArrayList<>(List.of("dIn", "dOut"));
            for (Parameter p : model.trainableParameters()) names.add(p.name());
            for (int i = 0; i < names.size(); i++) {
                double[] expected = new double[two.get(i).length];
                for (int j = 0; j < expected.length; j++) expected[j] = two.get(i)[j];
                if (names.get(i).contains("layers.0.")) continue;   // layer 0 did not run
                double err = Fixtures.relativeError(one.get(i), expected);
                assertTrue(err < 1e-5, names.get(i) + ": relative error " + err);
            }
        }
    }

    /** dIn, the residual's gradient (dOut, consumed), then every LoRA gradient. */
    private static List<float[]> backward(LlamaModel model, DecoderLayer layer, Buffer x, float[] dOut, LayerActivations a, Pass pass, Workspace w) {
        Backend be = model.backend();
        model.zeroGradients();
        Buffer d = floats(be, dOut), dIn = be.allocate(DType.F32, dOut.length);
        layer.backward(be, x, d, dIn, a, pass, model.rope(), w);
        List<float[]> grads = new ArrayList<>(List.of(be.toFloats(dIn), be.toFloats(d)));
        for (Parameter p : model.trainableParameters()) grads.add(be.toFloats(p.grad()));
        return grads;
    }

    @Test
    void onlyAFrozenFloatBaseJoinsGateAndUp() {
        Path dir = Fixtures.model("tiny-llama");
        try (LlamaModel frozen = LlamaModel.load(dir, new CpuBackend());
             LlamaModel full = LlamaModel.loadForFullTraining(dir, new CpuBackend());
             LlamaModel nf4 = LlamaModel.load(dir, null, new CpuBackend(), Quantization.NF4);
             LlamaModel randomFrozen = LlamaModel.initialize(LlamaConfig.read(dir), new CpuBackend(), 0.02, 1, false);
             LlamaModel randomTrainable = LlamaModel.initialize(LlamaConfig.read(dir), new CpuBackend(), 0.02, 1, true)) {
            long joined = 2L * frozen.config().intermediateSize() * frozen.config().hiddenSize();
            for (int l = 0; l < frozen.config().numLayers(); l++) {
                assertEquals(joined, frozen.layers()[l].gateUp.length());
                assertEquals(joined, randomFrozen.layers()[l].gateUp.length());
                assertNull(full.layers()[l].gateUp, "full training: gate and up train, each with its gradient");
                assertNull(randomTrainable.layers()[l].gateUp, "full training: gate and up train, each with its gradient");
                assertNull(nf4.layers()[l].gateUp, "NF4: gate and up are quantized");
            }
        }
    }

    /** The halves are the weights: forward, generation and saving read them as the file has them. */
    @Test
    void theJoinedWeightsAreTheFilesValues(@TempDir Path tmp) {
        Path dir = Fixtures.model("tiny-llama");
        Map<String, HostTensor> file = SafeTensors.readAll(dir.resolve("model.safetensors"));
        try (LlamaModel model = LlamaModel.load(dir, new CpuBackend())) {
            int inter = model.config().intermediateSize(), hidden = model.config().hiddenSize();
            float[] both = model.backend().toFloats(model.layers()[1].gateUp);
            float[] gate = file.get(Projection.GATE.modulePath(1) + ".weight").toFloatArray(), up = file.get(Projection.UP.modulePath(1) + ".weight").toFloatArray();
            assertArrayEquals(gate, Arrays.copyOfRange(both, 0, inter * hidden));
            assertArrayEquals(up, Arrays.copyOfRange(both, inter * hidden, 2 * inter * hidden));
            model.saveModel(tmp);
        }
        Map<String, HostTensor> saved = SafeTensors.readAll(tmp.resolve("model.safetensors"));
        for (Projection p : new Projection[]{Projection.GATE, Projection.UP}) {
            String name = p.modulePath(0) + ".weight";
            assertArrayEquals(file.get(name).toFloatArray(), saved.get(name).toFloatArray(), name);
        }
    }

    /** Gate in F32 and up in BF16: joined as float32, each half the values its own upload would give. */
    @Test
    void gateAndUpOfTwoDtypesJoinAsFloats(@TempDir Path tmp) throws IOException {
        Path dir = Fixtures.model("tiny-llama");
        Files.copy(dir.resolve("config.json"), tmp.resolve("config.json"));
        Map<String, HostTensor> weights = new LinkedHashMap<>(SafeTensors.readAll(dir.resolve("model.safetensors")));
        String upName = Projection.UP.modulePath(1) + ".weight";
        HostTensor up = weights.get(upName);
        float[] v = up.toFloatArray();
        MemorySegment bf16 = Arena.ofAuto().allocate(v.length * 2L);
        for (int i = 0; i < v.length; i++) bf16.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) (Float.floatToIntBits(v[i]) >>> 16));
        weights.put(upName, new HostTensor(DType.BF16, up.shape(), bf16));
        SafeTensorsWriter.write(tmp.resolve("model.safetensors"), weights, Map.of());
        try (LlamaModel model = LlamaModel.load(tmp, new CpuBackend())) {
            int half = model.config().intermediateSize() * model.config().hiddenSize();
            float[] both = model.backend().toFloats(model.layers()[1].gateUp);
            assertArrayEquals(weights.get(Projection.GATE.modulePath(1) + ".weight").toFloatArray(), Arrays.copyOfRange(both, 0, half));
            assertArrayEquals(weights.get(upName).toFloatArray(), Arrays.copyOfRange(both, half, 2 * half));
        }
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextDouble(-1, 1);
        return v;
    }

    private static Buffer floats(Backend be, float[] values) {
        return be.upload(HostTensor.ofFloats(values, values.length), true);
    }

    private static Buffer ints(Backend be, int[] values) {
        Buffer b = be.allocate(DType.I32, values.length);
        be.copyFromHost(MemorySegment.ofArray(values), b);
        return b;
    }
}
