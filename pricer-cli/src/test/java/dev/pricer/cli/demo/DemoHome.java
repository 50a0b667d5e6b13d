package dev.pricer.cli.demo;

import dev.pricer.cli.PricerCommand;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo as a newcomer meets it, made once per test JVM and shared by the tests that check what it left: a fresh,
 * empty PRICER_HOME; {@code pricer demo} in its own process, stopped with SIGTERM (what Ctrl-C does to the trainer)
 * in the middle of the fine-tune; then {@code pricer demo} again, which must continue to the end. The settings are
 * smaller than the README's so the suite stays quick.
 */
record DemoHome(Path home, String stopped, String resumed) {

    static final String[] SMALL = {"--items", "400", "--test-size", "30", "--hidden", "64", "--max-tokens", "40",
            "--base-epochs", "1", "--lora-epochs", "1", "--save-steps", "20", "--no-serve"};

    private static DemoHome made;

    static synchronized DemoHome get() throws Exception {
        if (made == null) {
            Path home = Files.createTempDirectory("pricer-demo-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(home)));
            String stopped = stoppedInTheFineTune(home);
            String resumed = demo(home);
            made = new DemoHome(home, stopped, resumed);
        }
        return made;
    }

    /** {@code pricer demo} in this JVM; returns what it printed, after checking it succeeded. */
    static String demo(Path home) {
        List<String> args = new ArrayList<>(List.of("demo", "--home", home.toString()));
        args.addAll(List.of(SMALL));
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = PricerCommand.create().execute(args.toArray(String[]::new));
        } finally {
            System.setOut(stdout);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        System.out.print(out);
        assertEquals(0, code, out);
        return out;
    }

    /** Runs the demo in a child JVM and sends it SIGTERM once the fine-tune has logged its first steps. */
    private static String stoppedInTheFineTune(Path home) throws Exception {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), PricerCommand.class.getName(), "demo", "--home", home.toString()));
        command.addAll(List.of(SMALL));
        Process demo = new ProcessBuilder(command).redirectErrorStream(true).start();
        // A child that hangs would hold the suite; killing it ends the read below with an error.
        CompletableFuture.runAsync(demo::destroyForcibly, CompletableFuture.delayedExecutor(15, TimeUnit.MINUTES));
        StringBuilder out = new StringBuilder();
        boolean fineTuning = false;
        boolean signalled = false;
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(demo.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                out.append(line).append('\n');
                if (line.startsWith("[6/")) fineTuning = true;
                if (fineTuning && !signalled && line.startsWith("step ")) {
                    demo.toHandle().destroy();
                    signalled = true;
                }
            }
        } finally {
            if (!demo.waitFor(2, TimeUnit.MINUTES)) demo.destroyForcibly();
        }
        System.out.print(out);
        assertTrue(signalled, "the fine-tune logged a step before the demo ended:\n" + out);
        assertEquals(130, demo.exitValue(), "a stopped demo exits as an interrupted command:\n" + out);
        assertTrue(out.toString().contains("stopped; run ./pricer demo again"), out.toString());
        return out.toString();
    }

    private static void delete(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
