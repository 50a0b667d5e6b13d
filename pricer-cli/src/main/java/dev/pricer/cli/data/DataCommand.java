package dev.pricer.cli.data;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code pricer data}: read, curate, describe and generate price datasets. */
@Command(name = "data", description = "Read, curate, describe and generate price datasets.",
        subcommands = {CurateCommand.class, StatsCommand.class, GenerateCommand.class})
public final class DataCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
