package dev.pricer.cli.train;

import dev.pricer.train.config.TrainingArgumentsIO;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A flag for every training argument, made from {@link TrainingArgumentsIO#properties()} so the flags can
 * never drift from the YAML names: {@code --learning-rate} (or HF's own spelling {@code --learning_rate}).
 * What the user typed is kept as text and laid over the YAML by {@link TrainingArgumentsIO#load}.
 */
public final class TrainingArgumentOptions implements CommandLine.IModelTransformer {

    /** The arguments given on the command line of the command being parsed, by HF name. */
    public static Map<String, String> given(CommandSpec spec) {
        Map<String, String> out = new LinkedHashMap<>();
        for (OptionSpec o : spec.options()) {
            if (o.userObject() instanceof String name && spec.commandLine().getParseResult().hasMatchedOption(o)) {
                out.put(name, Objects.toString(o.getValue()));
            }
        }
        return out;
    }

    @Override
    public CommandSpec transform(CommandSpec spec) {
        for (TrainingArgumentsIO.Property p : TrainingArgumentsIO.properties()) {
            String kebab = "--" + p.name().replace('_', '-'), snake = "--" + p.name();
            OptionSpec.Builder b = (kebab.equals(snake) ? OptionSpec.builder(kebab) : OptionSpec.builder(kebab, snake))
                    .type(String.class)
                    .userObject(p.name())
                    .description(p.description())
                    .paramLabel(label(p));
            if (p.type() == boolean.class || p.type() == Boolean.class) b.arity("0..1").fallbackValue("true");
            spec.addOption(b.build());
        }
        return spec;
    }

    private static String label(TrainingArgumentsIO.Property p) {
        if (p.list()) return "A,B,...";
        if (p.type() == boolean.class) return "true|false";
        if (p.type() == int.class || p.type() == Integer.class || p.type() == long.class) return "N";
        if (p.type() == double.class) return "X";
        return "VALUE";
    }
}
