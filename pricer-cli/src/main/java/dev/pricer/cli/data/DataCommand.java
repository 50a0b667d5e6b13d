package dev.pricer.cli.data;

import dev.pricer.cli.Failures;
import dev.pricer.data.read.DataFileException;
import dev.pricer.hub.HubException;
import picocli.CommandLine;

import java.io.UncheckedIOException;
import picocli.CommandLine.Command;

/** {@code pricer data}: read, curate, describe and generate price datasets. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Read, curate, describe and generate price datasets.",
        subcommands = {CurateCommand.class, StatsCommand.class, GenerateCommand.class})
public final class DataCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The body of a data command whose failures about the data are one clear line on stderr and exit code 1. */
    @FunctionalInterface
    interface Work {
        int run() throws Exception;
    }

    static int reportingErrors(Work work) {
        try {
            return work.run();
        } catch (DataFileException | IllegalArgumentException | UncheckedIOException | HubException e) {
            System.err.println("error: " + Failures.describe(e));
            return 1;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
