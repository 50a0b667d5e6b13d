package dev.pricer.cli;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every command and subcommand answers {@code --help} with its own usage and exit code 0, as a user expects of each. */
class PricerCommandTest {

    @TestFactory
    Stream<DynamicTest> everyCommandAnswersHelp() {
        List<List<String>> paths = new ArrayList<>();
        collect(PricerCommand.create(), List.of(), paths);
        assertTrue(paths.size() > 20, paths.size() + " commands");
        return paths.stream().map(path -> DynamicTest.dynamicTest(String.join(" ", path) + " --help", () -> {
            CommandLine line = PricerCommand.create();
            StringWriter out = new StringWriter(), err = new StringWriter();
            line.setOut(new PrintWriter(out, true));
            line.setErr(new PrintWriter(err, true));
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            assertEquals(0, line.execute(args.toArray(String[]::new)), err.toString());
            String usage = String.join(" ", Stream.concat(Stream.of("Usage: pricer"), path.stream()).toList());
            assertTrue(out.toString().startsWith(usage + " "), out.toString());
        }));
    }

    /** The command's path and its subcommands' (each once, not by its aliases), but picocli's own help command. */
    private static void collect(CommandLine line, List<String> path, List<List<String>> into) {
        into.add(path);
        line.getSubcommands().forEach((name, sub) -> {
            if (name.equals("help") || !name.equals(sub.getCommandName())) return;
            List<String> below = new ArrayList<>(path);
            below.add(name);
            collect(sub, below, into);
        });
    }
}
