package dev.pricer.core.model;

import dev.pricer.core.Fixtures;
import dev.pricer.core.FormatException;
import dev.pricer.core.backend.AdamW;
import dev.pricer.core.backend.cpu.CpuBackend;
import dev.pricer.core.lora.BaseModelRef;
import dev.pricer.core.lora.LoraConfig;
import dev.pricer.core.quant.BnbNf4Format;
import dev.pricer.core.quant.Nf4Quantizer;
import dev.pricer.core.quant.Nf4Weight;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.safetensors.SafeTensorsWriter;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loading a base model in NF4: quantized at load time, or as bitsandbytes saved it; the weights that stay
 * float; adapters trained on the quantized base; and checkpoints that lie.
 */
class QuantizedModelTest {

    private static final String Q_PROJ = "model.layers.0.self_attn.q_proj.weight";
    private static final String QUANTIZATION_CONFIG = """
            "quantization_config": {"_load_in_4bit": true, "_load_in_8bit": false, "bnb_4bit_compute_dtype": "bfloat16",
              "bnb_4bit_quant_storage": "uint8", "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": true,
              "llm_int8_enable_fp32_cpu_offload": false, "llm_int8_has_fp16_weight": false, "llm_int8_skip_modules": null,
              "llm_int8_threshold": 6.0, "load_in_4bit": true, "load_in_8bit": false, "quant_method": "bitsandbytes"},
            """;

    @TempDir
    Path dir;

    private static Map<String, HostTensor> fixtureWeights() {
        return new LinkedHashMap<>(SafeTensors.readAll(Fixtures.model("tiny-llama").resolve(SafeTensors.SINGLE)));
    }

    private static boolean isProjection(String name) {
        return name.matches("model\\.layers\\.\\d+\\.(self_attn|mlp)\\.[a-z]+_proj\\.weight");
    }

    /** A model folder: the fixture's config (plus {@code configExtra} at its top) and these tensors. */
    private Path folder(String name, Map<String, HostTensor> tensors, String configExtra) throws IOException {
        Path out = dir.resolve(name);
        Files.createDirectories(out);
        String config = Files.readString(Fixtures.model("tiny-llama").resolve("config.json"));
        Files.writeString(out.resolve("config.json"), config.replaceFirst("\\{", "{" + configExtra));
        SafeTensorsWriter.write(out.resolve(SafeTensors.SINGLE), tensors, Map.of("format", "pt"));
        return out;
    }

    /** The fixture as bitsandbytes saves a 4-bit model: every decoder projection in NF4 (double quantization). */
    private Path bnbCheckpoint(String name, Consumer<Map<String, HostTensor>> tamper) throws IOException {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        fixtureWeights().forEach((key, t) -> {
            if (isProjection(key)) tensors.putAll(BnbNf4Format.tensors(key, Nf4Quantizer.quantize(t, true)));
            else tensors.put(key, t);
        });
        tamper.accept(tensors);
        return folder(name, tensors, QUANTIZATION_CONFIG);
    }

    private static float[] logits(Path model, Quantization quantization) {
        Map<String, HostTensor> expected = Fixtures.expected("tiny-llama");
        try (LlamaModel m = LlamaModel.load(model, null, new CpuBackend(), quantization)) {
            return m.logits(Fixtures.batch(expected, "")).toFloatArray();
        }
    }

    /**
     * The same weights through the same kernels. Not bitwise: the CPU backend's vector reductions may sum lanes in
     * another order once the JIT compiles them, so two runs in one JVM can differ in the last bit.
     */
    private static void assertSameLogits(float[] expected, float[] actual) {
        double[] ref = new double[expected.length];
        for (int i = 0; i < ref.length; i++) ref[i] = expected[i];
        double err = Fixtures.relativeError(actual, ref);
        assertTrue(err < 1e-6, "relative error " + err);
    }

    @Test
    void nf4ComputesWithTheDequantizedWeightsOfEveryProjectionAndOnlyThose() throws IOException {
        Map<String, HostTensor> dequantized = fixtureWeights();
        int projections = 0;
        for (Map.Entry<String, HostTensor> e : dequantized.entrySet()) {
            if (!isProjection(e.getKey())) continue;
            e.setValue(HostTensor.ofFloats(Nf4Quantizer.quantize(e.getValue(), true).dequantize(), e.getValue().shape()));
            projections++;
        }
        assertEquals(2 * 7, projections);
        float[] reference = logits(folder("dequantized", dequantized, ""), Quantization.NONE);
        float[] nf4 = logits(Fixtures.model("tiny-llama"), Quantization.NF4);
        float[] f32 = logits(Fixtures.model("tiny-llama"), Quantization.NONE);
        double[] ref = new double[reference.length];
        for (int i = 0; i < ref.length; i++) ref[i] = reference[i];
        // Same weights, products summed in another order: float rounding only.
        assertTrue(Fixtures.relativeError(nf4, ref) < 1e-5, "NF4 vs dequantized: " + Fixtures.relativeError(nf4, ref));
        // and the quantization is real: the float model differs by far more.
        assertTrue(Fixtures.relativeError(f32, ref) > 1e-3, "NF4 vs float32: " + Fixtures.relativeError(f32, ref));
        // Generation decodes one row at a time, the NF4 product's other path: the same greedy tokens.
        int[] prompt = {1, 17, 33, 250, 7};
        try (LlamaModel m = LlamaModel.load(Fixtures.model("tiny-llama"), null, new CpuBackend(), Quantization.NF4);
             LlamaModel d = LlamaModel.load(dir.resolve("dequantized"), new CpuBackend())) {
            assertEquals(Quantization.NF4, m.quantization());
            assertArrayEquals(d.generateGreedy(prompt, 8), m.generateGreedy(prompt, 8));
        }
    }

    @Test
    void aBitsandbytesCheckpointLoadsAsNf4WithoutAFlagAndMatchesQuantizingAtLoad() throws IOException {
        Path bnb = bnbCheckpoint("bnb", t -> { });
        assertSameLogits(logits(Fixtures.model("tiny-llama"), Quantization.NF4), logits(bnb, Quantization.NONE));
        try (LlamaModel m = LlamaModel.load(bnb, new CpuBackend())) {
            assertEquals(Quantization.NF4, m.quantization());
        }
    }

    @Test
    void aConfigThatAsksForNf4QuantizesFloatWeightsAtLoad() throws IOException {
        Path declared = folder("declared", fixtureWeights(), QUANTIZATION_CONFIG);
        assertSameLogits(logits(Fixtures.model("tiny-llama"), Quantization.NF4), logits(declared, Quantization.NONE));
    }

    @Test
    void anAdapterTrainedOnAnNf4BaseIsAnOrdinaryPeftAdapter() throws IOException {
        Map<String, HostTensor> expected = Fixtures.expected("tiny-llama");
        Batch batch = Fixtures.batch(expected, "");
        Path adapter = dir.resolve("adapter");
        Map<String, float[]> trained = new LinkedHashMap<>();
        try (CpuBackend backend = new CpuBackend();
             LlamaModel m = LlamaModel.load(Fixtures.model("tiny-llama"), null, backend, Quantization.NF4)) {
            m.createAdapter(new LoraConfig(4, 8, 0.0, List.of("q_proj", "v_proj", "down_proj"), false), 3);
            for (int step = 1; step <= 3; step++) {
                m.zeroGradients();
                m.forwardBackward(batch, 1f / batch.labelTokens());
                for (Parameter p : m.trainableParameters()) {
                    backend.adamw(p.value(), p.grad(), backend.allocate(DType.F32, p.value().length()),
                            backend.allocate(DType.F32, p.value().length()), new AdamW(1e-2f, 0.9f, 0.999f, 1e-8f, 0f, 1));
                }
            }
            m.saveAdapter(adapter, BaseModelRef.of("tiny-llama"));
            for (Parameter p : m.trainableParameters()) trained.put(p.name(), m.download(p.value(), p.shape()).toFloatArray());
        }
        try (LlamaModel f32 = LlamaModel.load(Fixtures.model("tiny-llama"), adapter, new CpuBackend())) {
            assertEquals(Quantization.NONE, f32.quantization());
            assertEquals(trained.keySet(), f32.trainableParameters().stream().map(Parameter::name).collect(Collectors.toCollection(LinkedHashSet::new)));
            for (Parameter p : f32.trainableParameters()) assertArrayEquals(trained.get(p.name()), f32.download(p.value(), p.shape()).toFloatArray(), p.name());
            assertTrue(trained.entrySet().stream().anyMatch(e -> e.getKey().contains("lora_B") && nonZero(e.getValue())), "the adapter trained");
        }
    }

    private static boolean nonZero(float[] v) {
        for (float x : v) if (x != 0f) return true;
        return false;
    }

    @Test
    void fullParameterTrainingOfAQuantizedModelIsRefused() throws IOException {
        Path bnb = bnbCheckpoint("bnb", t -> { });
        FormatException stored = assertThrows(FormatException.class, () -> LlamaModel.loadForFullTraining(folder("plain-bnb", bnbTensorsOnly(bnb), ""), new CpuBackend()));
        assertTrue(stored.getMessage().contains("is quantized") && stored.getMessage().contains("full-parameter"), stored.getMessage());
        IllegalArgumentException declared = assertThrows(IllegalArgumentException.class, () -> LlamaModel.loadForFullTraining(bnb, new CpuBackend()));
        assertTrue(declared.getMessage().contains("full-parameter training needs float weights"), declared.getMessage());
    }

    private static Map<String, HostTensor> bnbTensorsOnly(Path bnb) {
        return new LinkedHashMap<>(SafeTensors.readAll(bnb.resolve(SafeTensors.SINGLE)));
    }

    @Test
    void anAbsmaxOfTheWrongLengthIsNamed() throws IOException {
        Path bad = bnbCheckpoint("short-absmax", t -> {
            HostTensor absmax = t.get(Q_PROJ + BnbNf4Format.ABSMAX);
            t.put(Q_PROJ + BnbNf4Format.ABSMAX, new HostTensor(DType.U8, new long[]{absmax.elementCount() - 1},
                    absmax.data().asSlice(0, absmax.elementCount() - 1)));
        });
        assertRefused(bad, Q_PROJ + ".absmax'", "holds 63 elements");
    }

    @Test
    void aQuantStateThatLiesAboutTheShapeIsNamed() throws IOException {
        // [64, 64] has as many elements as the truth, so only the comparison with config.json can catch it.
        Path transposed = bnbCheckpoint("lying-shape", t -> setQuantState(t, Q_PROJ, "\"shape\": [64, 64]", "\"shape\": [32, 128]"));
        assertRefused(transposed, Q_PROJ + BnbNf4Format.QUANT_STATE, "field 'shape'");
        Path bigger = bnbCheckpoint("bigger-shape", t -> setQuantState(t, Q_PROJ, "\"shape\": [64, 64]", "\"shape\": [64, 128]"));
        assertRefused(bigger, Q_PROJ, "packed codes of shape [64, 128]");
    }

    @Test
    void aQuantStateThatLiesAboutTheBlocksizeIsNamed() throws IOException {
        Path bad = bnbCheckpoint("lying-blocksize", t -> setQuantState(t, Q_PROJ, "\"blocksize\": 64", "\"blocksize\": 128"));
        assertRefused(bad, Q_PROJ + ".absmax'", "field 'blocksize'");
    }

    @Test
    void aQuantTypeOtherThanNf4IsRefusedByName() throws IOException {
        Path fp4 = bnbCheckpoint("fp4-state", t -> setQuantState(t, Q_PROJ, "\"quant_type\": \"nf4\"", "\"quant_type\": \"fp4\""));
        assertRefused(fp4, Q_PROJ + BnbNf4Format.QUANT_STATE, "field 'quant_type' is 'fp4'");
        Path fp4Key = bnbCheckpoint("fp4-key", t -> t.put(Q_PROJ + ".quant_state.bitsandbytes__fp4", t.remove(Q_PROJ + BnbNf4Format.QUANT_STATE)));
        assertRefused(fp4Key, Q_PROJ, "fp4");
        Path config = folder("fp4-config", fixtureWeights(), QUANTIZATION_CONFIG.replace("\"bnb_4bit_quant_type\": \"nf4\"", "\"bnb_4bit_quant_type\": \"fp4\""));
        assertRefused(config, "quantization_config.bnb_4bit_quant_type", "'fp4'");
    }

    @Test
    void onlyDecoderProjectionsMayBeQuantized() throws IOException {
        Path bad = bnbCheckpoint("quantized-head", t -> {
            HostTensor head = t.remove("lm_head.weight");
            t.putAll(BnbNf4Format.tensors("lm_head.weight", Nf4Quantizer.quantize(head, true)));
        });
        assertRefused(bad, "lm_head.weight", "only the decoder layers' projections");
    }

    private static void setQuantState(Map<String, HostTensor> tensors, String weight, String from, String to) {
        HostTensor state = tensors.get(weight + BnbNf4Format.QUANT_STATE);
        String json = new String(state.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        assertTrue(json.contains(from), json);
        byte[] lie = json.replace(from, to).getBytes(StandardCharsets.UTF_8);
        tensors.put(weight + BnbNf4Format.QUANT_STATE, new HostTensor(DType.U8, new long[]{lie.length}, MemorySegment.ofArray(lie)));
    }

    private static void assertRefused(Path model, String named, String saying) {
        FormatException e = assertThrows(FormatException.class, () -> LlamaModel.load(model, new CpuBackend()).close());
        assertTrue(e.getMessage().contains(named) && e.getMessage().contains(saying), e.getMessage());
    }

    @Test
    void aPrequantizedWeightIsReadAsAViewOfTheFileWithTheCodesOfQuantizingAtLoad() throws IOException {
        Path bnb = bnbCheckpoint("bnb-view", t -> { });
        try (SafeTensors files = SafeTensors.open(bnb)) {
            Nf4Weight w = BnbNf4Format.read(files, Q_PROJ);
            Nf4Weight atLoad = Nf4Quantizer.quantize(fixtureWeights().get(Q_PROJ), true);
            assertEquals(-1L, w.packed().mismatch(atLoad.packed()), "the same codes as quantizing at load");
            for (int b = 0; b < atLoad.scales().blocks(); b++) assertEquals(atLoad.scales().scale(b), w.scales().scale(b), "absmax of block " + b);
            assertTrue(w.packed().isMapped() || w.packed().isNative(), "packed codes come from the mapped file");
            assertEquals(64L * 64 / 2, w.packed().byteSize());
        }
    }
}
