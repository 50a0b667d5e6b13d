package dev.pricer.core.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.core.FormatException;
import dev.pricer.core.tensor.HostTensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tensors of a model folder: one {@code model.safetensors}, or the shards that
 * {@code model.safetensors.index.json} lists. Every file is memory-mapped and checked when opened.
 */
public final class SafeTensors implements AutoCloseable {

    public static final String SINGLE = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";

    private final Map<String, SafeTensorsFile> byTensor;
    private final List<SafeTensorsFile> files;

    private SafeTensors(Map<String, SafeTensorsFile> byTensor, List<SafeTensorsFile> files) {
        this.byTensor = byTensor;
        this.files = files;
    }

    /** Opens a folder (single file or sharded index) or a single {@code .safetensors} file. */
    public static SafeTensors open(Path path) {
        if (!Files.isDirectory(path)) return of(List.of(SafeTensorsFile.open(path)));
        Path index = path.resolve(INDEX);
        if (Files.isRegularFile(index)) return openSharded(path, index);
        Path single = path.resolve(SINGLE);
        if (!Files.isRegularFile(single)) throw new FormatException(path + ": neither " + SINGLE + " nor " + INDEX + " found");
        return of(List.of(SafeTensorsFile.open(single)));
    }

    private static SafeTensors of(List<SafeTensorsFile> files) {
        Map<String, SafeTensorsFile> byTensor = new LinkedHashMap<>();
        for (SafeTensorsFile f : files) for (String name : f.names()) byTensor.put(name, f);
        return new SafeTensors(byTensor, files);
    }

    private static SafeTensors openSharded(Path dir, Path index) {
        JsonNode weightMap;
        try {
            weightMap = new ObjectMapper().readTree(index.toFile()).path("weight_map");
        } catch (IOException e) {
            throw new FormatException(index + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!weightMap.isObject()) throw new FormatException(index + ": missing field 'weight_map'");
        Map<String, SafeTensorsFile> shards = new LinkedHashMap<>();
        Map<String, SafeTensorsFile> byTensor = new LinkedHashMap<>();
        try {
            for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String shardName = e.getValue().asText();
                Path shardPath = dir.resolve(shardName).normalize();
                if (!shardPath.startsWith(dir.normalize())) {
                    throw new FormatException(index + ": field 'weight_map." + e.getKey() + "' points outside the folder: " + shardName);
                }
                SafeTensorsFile shard = shards.get(shardName);
                if (shard == null) {
                    shard = SafeTensorsFile.open(shardPath);
                    shards.put(shardName, shard);
                }
                if (!shard.contains(e.getKey())) {
                    throw new FormatException(index + ": field 'weight_map." + e.getKey() + "' names shard " + shardName + ", which lacks it");
                }
                byTensor.put(e.getKey(), shard);
            }
        } catch (RuntimeException e) {
            shards.values().forEach(SafeTensorsFile::close);
            throw e;
        }
        return new SafeTensors(byTensor, new ArrayList<>(shards.values()));
    }

    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    public List<String> names() {
        return List.copyOf(byTensor.keySet());
    }

    public SafeTensorsFile.Entry entry(String name) {
        return file(name).entry(name);
    }

    public HostTensor tensor(String name) {
        return file(name).tensor(name);
    }

    private SafeTensorsFile file(String name) {
        SafeTensorsFile f = byTensor.get(name);
        if (f == null) {
            String where = files.size() == 1 ? files.getFirst().path().toString() : "model shards";
            throw new FormatException(where + ": missing tensor '" + name + "'");
        }
        return f;
    }

    public String describe() {
        return files.size() == 1 ? files.getFirst().path().toString() : files.size() + " shards in " + files.getFirst().path().getParent();
    }

    @Override
    public void close() {
        files.forEach(SafeTensorsFile::close);
    }

    /** Reads every tensor of one file into memory that outlives the file (for small files: fixtures, adapters). */
    public static Map<String, HostTensor> readAll(Path file) {
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            Map<String, HostTensor> out = new LinkedHashMap<>();
            for (String name : f.names()) {
                HostTensor t = f.tensor(name);
                MemorySegment copy = Arena.ofAuto().allocate(t.data().byteSize(), 8);
                copy.copyFrom(t.data());
                out.put(name, new HostTensor(t.dtype(), t.shape(), copy));
            }
            return out;
        }
    }
}
