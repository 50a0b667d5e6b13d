package dev.pricer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pricer} command: each job is a subcommand. */
@Command(name = "pricer", mixinStandardHelpOptions = true, version = "pricer 0.1.0",
        description = "Fine-tune LLMs to estimate prices, track every run, version every checkpoint.",
        subcommands = {
                CommandLine.HelpCommand.class,
                dev.pricer.cli.engine.ForwardCommand.class,
                dev.pricer.cli.device.DeviceCommand.class,
                dev.pricer.cli.server.ServerCommand.class,
                dev.pricer.cli.track.RunsCommand.class,
                dev.pricer.cli.track.TokenCommand.class,
                dev.pricer.cli.data.DataCommand.class,
                dev.pricer.cli.hub.HubCommand.class,
                dev.pricer.cli.train.TrainCommand.class,
                dev.pricer.cli.eval.PredictCommand.class,
                dev.pricer.cli.eval.EvalCommand.class,
                dev.pricer.cli.demo.DemoCommand.class,
        })
public final class PricerCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The command line as {@code main} runs it: errors in a command print as one line, not a stack trace. */
    public static CommandLine create() {
        return new CommandLine(new PricerCommand()).setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("error: " + Failures.describe(e));
            return 1;
        });
    }

    public static void main(String[] args) {
        System.exit(create().execute(args));
    }
}
