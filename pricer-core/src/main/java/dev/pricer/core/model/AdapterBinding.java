package dev.pricer.core.model;

import dev.pricer.core.FormatException;
import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.lora.LoraConfig;
import dev.pricer.core.lora.LoraWeights;
import dev.pricer.core.lora.PeftAdapter;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Puts a LoRA adapter's tensors (by PEFT key) onto the model's linear layers. {@link #check} runs over every
 * tensor before {@link #bind} touches a layer, so an adapter that does not fit leaves the model as it was.
 */
final class AdapterBinding {

    private AdapterBinding() {
    }

    private interface Site {
        void accept(DecoderLayer layer, Projection p, Linear linear);
    }

    private static void forEachSite(LoraConfig config, DecoderLayer[] layers, Site site) {
        for (DecoderLayer layer : layers) {
            for (Projection p : Projection.values()) if (config.targets(p.shortName())) site.accept(layer, p, layer.linear(p));
        }
    }

    static Map<String, HostTensor> initialTensors(LoraConfig config, DecoderLayer[] layers, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        forEachSite(config, layers, (layer, p, linear) -> {
            float[] a = new float[config.r() * linear.in];
            double bound = 1.0 / Math.sqrt(linear.in);
            for (int i = 0; i < a.length; i++) a[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
            tensors.put(PeftAdapter.key(linear.path, "lora_A"), HostTensor.ofFloats(a, config.r(), linear.in));
            tensors.put(PeftAdapter.key(linear.path, "lora_B"), HostTensor.ofFloats(new float[linear.out * config.r()], linear.out, config.r()));
        });
        return tensors;
    }

    static void check(LoraConfig config, DecoderLayer[] layers, Map<String, HostTensor> tensors, String source) {
        Map<String, HostTensor> unused = new LinkedHashMap<>(tensors);
        forEachSite(config, layers, (layer, p, linear) -> {
            checkOne(source, unused, PeftAdapter.key(linear.path, "lora_A"), new long[]{config.r(), linear.in});
            checkOne(source, unused, PeftAdapter.key(linear.path, "lora_B"), new long[]{linear.out, config.r()});
        });
        if (!unused.isEmpty()) {
            throw new FormatException(source + ": tensor '" + unused.keySet().iterator().next() + "' matches no LoRA target of this model"
                    + " (target_modules " + config.targetModules() + ", " + layers.length + " layers)");
        }
    }

    private static void checkOne(String source, Map<String, HostTensor> tensors, String key, long[] shape) {
        HostTensor t = tensors.remove(key);
        if (t == null) throw new FormatException(source + ": missing tensor '" + key + "'");
        if (!Arrays.equals(t.shape(), shape)) {
            throw new FormatException(source + ": tensor '" + key + "' has shape " + Arrays.toString(t.shape())
                    + ", the model needs " + Arrays.toString(shape));
        }
        if (!t.dtype().isFloatingPoint()) throw new FormatException(source + ": tensor '" + key + "' has dtype " + t.dtype() + ", not a float type");
    }

    /**
     * Uploads the tensors, wires them (with fresh gradient buffers) into the layers, and returns them as parameters.
     * With {@code stackAttention}, the A matrices of each layer's adapted q, k and v (and their gradients) are
     * consecutive slices of one buffer, so that their down-projections run as one product ({@link LoraDown}).
     */
    static List<Parameter> bind(LoraConfig config, DecoderLayer[] layers, Map<String, HostTensor> tensors, Backend backend, boolean stackAttention) {
        List<Parameter> params = new ArrayList<>();
        float scaling = (float) config.scaling(), dropout = (float) config.dropout();
        int r = config.r();
        List<Projection> stacked = Arrays.stream(DecoderLayer.ATTENTION_INPUT).filter(p -> config.targets(p.shortName())).toList();
        for (DecoderLayer layer : layers) {
            for (Linear linear : layer.linears) linear.lora = null;
            long size = (long) stacked.size() * r * layer.linear(Projection.Q).in;
            layer.attentionDown = stackAttention && stacked.size() > 1
                    ? new LoraDown(backend.allocate(DType.F32, size), backend.allocate(DType.F32, size), stacked.size() * r,
                    layer.linear(Projection.Q).in, scaling, dropout)
                    : null;
        }
        forEachSite(config, layers, (layer, p, linear) -> {
            String aKey = PeftAdapter.key(linear.path, "lora_A"), bKey = PeftAdapter.key(linear.path, "lora_B");
            Buffer b = backend.upload(tensors.get(bKey), true), a, gradA;
            LoraDown stack = layer.attentionDown;
            if (stack != null && stacked.contains(p)) {
                long size = (long) r * linear.in;
                a = stack.a().slice(stacked.indexOf(p) * size, size);
                gradA = stack.gradA().slice(stacked.indexOf(p) * size, size);
                backend.copyFromHost(MemorySegment.ofArray(tensors.get(aKey).toFloatArray()), a);
            } else {
                a = backend.upload(tensors.get(aKey), true);
                gradA = backend.allocate(DType.F32, a.length());
            }
            LoraWeights w = new LoraWeights(r, scaling, dropout, a, b, gradA, backend.allocate(DType.F32, b.length()));
            linear.lora = w;
            params.add(new Parameter(aKey, new long[]{r, linear.in}, a, w.gradA()));
            params.add(new Parameter(bKey, new long[]{linear.out, r}, b, w.gradB()));
        });
        return List.copyOf(params);
    }
}
