package dev.pricer.train.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads training arguments from YAML (HF names), lays flags over them, and writes them back out. Defaults
 * come first, then the file, then the flags; an unknown name or a value of the wrong kind is an error that
 * names the file and the field.
 */
public final class TrainingArgumentsIO {

    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .build())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private TrainingArgumentsIO() {
    }

    /** A property that a YAML file or a flag can set: its HF name, Java type and description. */
    public record Property(String name, Class<?> type, boolean list, String description) {
    }

    /** Every argument, in declaration order. */
    public static List<Property> properties() {
        JavaType type = YAML.constructType(TrainingArguments.class);
        List<BeanPropertyDefinition> defs = YAML.getDeserializationConfig().introspect(type).findProperties();
        return defs.stream().map(d -> {
            JavaType t = d.getPrimaryType();
            boolean list = t.isCollectionLikeType();
            return new Property(d.getName(), list ? t.getContentType().getRawClass() : t.getRawClass(), list,
                    d.getMetadata().getDescription());
        }).toList();
    }

    /**
     * Defaults, then {@code yaml} (may be null), then {@code overrides} (name to text as typed on the
     * command line; lists as comma-separated text).
     */
    public static TrainingArguments load(Path yaml, Map<String, String> overrides) {
        ObjectNode tree = YAML.valueToTree(TrainingArguments.defaults());
        if (yaml != null) {
            JsonNode file;
            try {
                file = YAML.readTree(yaml.toFile());
            } catch (JacksonException e) {
                throw new IllegalArgumentException(yaml + ": not valid YAML: " + e.getOriginalMessage(), e);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read training arguments " + yaml, e);
            }
            if (file != null && !file.isMissingNode() && !file.isNull()) {
                if (!file.isObject()) throw new IllegalArgumentException(yaml + ": expected a mapping of argument names to values");
                file.properties().forEach(e -> tree.set(e.getKey(), e.getValue()));
            }
        }
        applyOverrides(tree, overrides);
        return convert(tree, yaml == null ? "flags" : yaml + (overrides.isEmpty() ? "" : " (with flags)"));
    }

    /** {@code base} with {@code overrides} laid over it (e.g. a checkpoint's arguments and the flags of the resume). */
    public static TrainingArguments override(TrainingArguments base, Map<String, String> overrides, String source) {
        ObjectNode tree = YAML.valueToTree(base);
        applyOverrides(tree, overrides);
        return convert(tree, overrides.isEmpty() ? source : source + " (with flags)");
    }

    private static void applyOverrides(ObjectNode tree, Map<String, String> overrides) {
        Map<String, Property> known = properties().stream()
                .collect(Collectors.toMap(Property::name, p -> p, (a, b) -> a, LinkedHashMap::new));
        for (Map.Entry<String, String> o : overrides.entrySet()) {
            Property p = known.get(o.getKey());
            if (p == null) throw new IllegalArgumentException("unknown training argument " + o.getKey() + "; known: " + known.keySet());
            if (p.list()) {
                ArrayNode items = tree.putArray(p.name());
                for (String s : o.getValue().split(",")) {
                    if (!s.isBlank()) items.add(s.strip());
                }
            } else {
                tree.put(p.name(), o.getValue());
            }
        }
    }

    /** Reads arguments written by {@link #write}, e.g. from a checkpoint, with no defaults filled in. */
    public static TrainingArguments read(Path file) {
        try {
            return convert((ObjectNode) YAML.readTree(file.toFile()), file.toString());
        } catch (JacksonException | ClassCastException e) {
            throw new IllegalArgumentException(file + ": not a training arguments file: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    public static String toYaml(TrainingArguments args) {
        try {
            return YAML.writeValueAsString(args);
        } catch (JacksonException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void write(TrainingArguments args, Path file) throws IOException {
        Files.writeString(file, toYaml(args));
    }

    private static TrainingArguments convert(ObjectNode tree, String source) {
        try {
            return YAML.treeToValue(tree, TrainingArguments.class);
        } catch (JsonMappingException e) {
            Throwable root = e;
            while (root.getCause() != null) root = root.getCause();
            if (root instanceof IllegalArgumentException bad && root != e) {
                throw new IllegalArgumentException(source + ": " + bad.getMessage(), e);
            }
            String field = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining("."));
            JsonNode value = field.isEmpty() ? null : tree.get(e.getPath().getFirst().getFieldName());
            throw new IllegalArgumentException(source + ": " + (field.isEmpty() ? "" : field + " = " + value + ": ")
                    + e.getOriginalMessage(), e);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(source + ": " + e.getOriginalMessage(), e);
        }
    }
}
