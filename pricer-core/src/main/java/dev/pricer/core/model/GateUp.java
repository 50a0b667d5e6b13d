package dev.pricer.core.model;

import dev.pricer.core.backend.Backend;
import dev.pricer.core.backend.Buffer;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A frozen base's gate and up weights of a layer held as one {@code [2·intermediate, hidden]} buffer, gate's rows
 * then up's, the two weights being its halves (slices, so no second copy exists). Where neither has an adapter,
 * the MLP's input gradient {@code dgate·W_gate + dup·W_up} is then one product with twice the inner dimension
 * ({@link DecoderLayer#backward}), which a GPU runs faster than two products of which the second accumulates.
 * The forward pass stays two products: fused, it measured slower.
 */
final class GateUp {

    private GateUp() {
    }

    /**
     * Uploads the float weights {@code names} (in state-dict order, each tensor asked for once) into
     * {@code weights}. With {@code stack}, each layer's gate and up weights, where both are among them, go up as
     * one buffer; returns those buffers by layer, null where a layer's two are apart.
     */
    static Buffer[] upload(Backend backend, int layers, Set<String> names, Function<String, HostTensor> tensors,
                           boolean stack, boolean writable, Map<String, Buffer> weights) {
        Buffer[] stacked = new Buffer[layers];
        Map<String, Integer> gateLayers = new HashMap<>();
        for (int l = 0; stack && l < layers; l++) gateLayers.put(weightName(Projection.GATE, l), l);
        for (String name : names) {
            if (weights.containsKey(name)) continue;
            Integer layer = gateLayers.get(name);
            String up = layer == null ? null : weightName(Projection.UP, layer);
            if (up == null || !names.contains(up)) {
                weights.put(name, backend.upload(tensors.apply(name), writable));
                continue;
            }
            HostTensor g = tensors.apply(name), u = tensors.apply(up);
            Buffer both = uploadRows(backend, g, u, writable);
            long half = g.elementCount();
            weights.put(name, both.slice(0, half));
            weights.put(up, both.slice(half, half));
            stacked[layer] = both;
        }
        return stacked;
    }

    private static String weightName(Projection p, int layer) {
        return p.modulePath(layer) + ".weight";
    }

    /**
     * {@code first}'s rows, then {@code second}'s, as one buffer: their bytes joined where the dtypes agree, else
     * both as float32 (the values {@link Backend#upload} would take from each).
     */
    private static Buffer uploadRows(Backend backend, HostTensor first, HostTensor second, boolean writable) {
        long[] shape = first.shape();
        shape[0] += second.shape()[0];
        if (first.dtype() != second.dtype()) {
            float[] a = first.toFloatArray(), b = second.toFloatArray(), both = new float[a.length + b.length];
            System.arraycopy(a, 0, both, 0, a.length);
            System.arraycopy(b, 0, both, a.length, b.length);
            return backend.upload(HostTensor.ofFloats(both, shape), writable);
        }
        // A backend may keep an F32 tensor's memory as the buffer (the CPU does); any other is converted or copied
        // as it uploads, so the joined bytes go as soon as it returns rather than when the collector finds them.
        if (first.dtype() == DType.F32) return backend.upload(joined(first, second, shape, Arena.ofAuto()), writable);
        try (Arena arena = Arena.ofShared()) {
            return backend.upload(joined(first, second, shape, arena), writable);
        }
    }

    private static HostTensor joined(HostTensor first, HostTensor second, long[] shape, Arena arena) {
        long bytes = first.data().byteSize();
        MemorySegment data = arena.allocate(bytes + second.data().byteSize(), 8);
        data.copyFrom(first.data());
        data.asSlice(bytes).copyFrom(second.data());
        return new HostTensor(first.dtype(), shape, data);
    }
}
