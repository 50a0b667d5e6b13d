package dev.pricer.cli.engine;

import dev.pricer.cli.PricerCommand;
import dev.pricer.core.safetensors.SafeTensors;
import dev.pricer.core.safetensors.SafeTensorsWriter;
import dev.pricer.core.tensor.HostTensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code pricer forward} end to end on the golden tiny Llama: files in, files out, compared with transformers + PEFT. */
class ForwardCommandTest {

    @TempDir
    static Path dir;
    static Path fixtures;
    static Map<String, HostTensor> expected;

    @BeforeAll
    static void fixtures() throws URISyntaxException {
        fixtures = Path.of(ForwardCommandTest.class.getResource("/hf-tiny-llama/tiny-llama-expected.safetensors").toURI()).getParent();
        expected = SafeTensors.readAll(fixtures.resolve("tiny-llama-expected.safetensors"));
    }

    private static int run(StringWriter err, String... args) {
        CommandLine cmd = PricerCommand.create();
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    /** {@code pricer forward} on the tiny Llama from {@code inputs} to {@code output}, with further options. */
    private static int forward(StringWriter err, Path inputs, Path output, String... options) {
        String[] args = {"forward", "--model", fixtures.resolve("tiny-llama").toString(), "--inputs", inputs.toString(), "--output", output.toString()};
        String[] all = Arrays.copyOf(args, args.length + options.length);
        System.arraycopy(options, 0, all, args.length, options.length);
        return run(err, all);
    }

    private static double relativeError(float[] actual, float[] want) {
        double diff = 0, norm = 0;
        for (int i = 0; i < want.length; i++) {
            diff += (actual[i] - want[i]) * (double) (actual[i] - want[i]);
            norm += want[i] * (double) want[i];
        }
        return Math.sqrt(diff / norm);
    }

    @Test
    void writesLogitsLossAndLoraGradientsUnderPeftNames() {
        Path inputs = dir.resolve("inputs.safetensors"), output = dir.resolve("out.safetensors");
        SafeTensorsWriter.write(inputs, Map.of("input_ids", expected.get("input_ids"), "labels", expected.get("labels")), Map.of());
        StringWriter err = new StringWriter();
        int code = forward(err, inputs, output, "--adapter", fixtures.resolve("tiny-llama-lora").toString(), "--grads", "--device", "cpu");
        assertEquals(0, code, err.toString());
        Map<String, HostTensor> out = SafeTensors.readAll(output);
        assertArrayEquals(new long[]{2, 24, 512}, out.get("logits").shape());
        assertTrue(relativeError(out.get("logits").toFloatArray(), expected.get("lora.logits").toFloatArray()) < 1e-4);
        assertEquals(expected.get("lora.loss").toFloatArray()[0], out.get("loss").toFloatArray()[0], 1e-5);
        long grads = out.keySet().stream().filter(k -> k.startsWith("grad.")).count();
        assertEquals(28, grads);
        for (String key : out.keySet()) {
            if (!key.startsWith("grad.")) continue;
            assertTrue(relativeError(out.get(key).toFloatArray(), expected.get(key).toFloatArray()) < 1e-4, key);
        }
    }

    @Test
    void baseModelWithoutLabelsWritesLogitsOnly() {
        Path inputs = dir.resolve("ids.safetensors"), output = dir.resolve("base.safetensors");
        SafeTensorsWriter.write(inputs, Map.of("input_ids", expected.get("input_ids")), Map.of());
        StringWriter err = new StringWriter();
        int code = forward(err, inputs, output, "--device", "cpu");
        assertEquals(0, code);
        Map<String, HostTensor> out = SafeTensors.readAll(output);
        assertEquals(Set.of("logits"), out.keySet());
        assertFalse(err.toString().contains("running on the CPU"), "--device cpu is no fall-back: " + err);
        assertTrue(relativeError(out.get("logits").toFloatArray(), expected.get("base.logits").toFloatArray()) < 1e-4);
    }

    @Test
    void inputsWithoutInputIdsFailNamingFileAndField() {
        Path inputs = dir.resolve("bad.safetensors"), output = dir.resolve("never.safetensors");
        SafeTensorsWriter.write(inputs, Map.of("labels", expected.get("labels")), Map.of());
        StringWriter err = new StringWriter();
        int code = forward(err, inputs, output);
        assertEquals(1, code);
        assertTrue(err.toString().contains(inputs.toString()) && err.toString().contains("'input_ids'"), err.toString());
        assertFalse(output.toFile().exists());
    }

    @Test
    void anUnknownDeviceIsNamedAndNothingIsWritten() {
        Path inputs = dir.resolve("device.safetensors"), output = dir.resolve("no-device.safetensors");
        SafeTensorsWriter.write(inputs, Map.of("input_ids", expected.get("input_ids")), Map.of());
        StringWriter err = new StringWriter();
        int code = forward(err, inputs, output, "--device", "tpu");
        assertEquals(1, code);
        assertTrue(err.toString().contains("'tpu'"), err.toString());
        assertFalse(output.toFile().exists());
    }
}
