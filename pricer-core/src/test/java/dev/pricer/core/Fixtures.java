package dev.pricer.core;

import dev.pricer.core.model.Batch;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.tensor.HostTensor;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The golden fixtures from transformers + PEFT (see {@code hf-tiny-llama/README.md} in test resources). */
public final class Fixtures {

    private Fixtures() {
    }

    public static Path root() {
        try {
            return Path.of(Fixtures.class.getResource("/hf-tiny-llama/README.md").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code tiny-llama} or {@code tiny-llama-tied}. */
    public static Path model(String name) {
        return root().resolve(name);
    }

    public static Path adapter(String name) {
        return root().resolve(name + "-lora");
    }

    public static Map<String, HostTensor> expected(String name) {
        return SafeTensors.readAll(root().resolve(name + "-expected.safetensors"));
    }

    public static Batch batch(Map<String, HostTensor> expected, String prefix) {
        HostTensor ids = expected.get(prefix + "input_ids");
        long[] shape = ids.shape();
        int b = (int) shape[shape.length - 2], t = (int) shape[shape.length - 1];
        return new Batch(b, t, ids.toIntArray(), expected.get(prefix + "labels").toIntArray(), null);
    }

    /** ‖actual − expected‖ / ‖expected‖ over all elements. */
    public static double relativeError(float[] actual, double[] expected) {
        assertEquals(expected.length, actual.length, "element count");
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.length; i++) {
            diff += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        return Math.sqrt(diff / norm);
    }

    public static void assertClose(float[] actual, double[] expected, double tolerance, String what) {
        double err = relativeError(actual, expected);
        assertTrue(err <= tolerance, what + ": relative error " + err + " > " + tolerance);
    }
}
