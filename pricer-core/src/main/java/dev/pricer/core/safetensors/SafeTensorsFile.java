package dev.pricer.core.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pricer.core.FormatException;
import dev.pricer.core.tensor.DType;
import dev.pricer.core.tensor.HostTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * One {@code .safetensors} file, memory-mapped. The whole header is checked when the file is opened (dtypes,
 * shapes against byte ranges, ranges inside the file and not overlapping), so a bad file fails at once with
 * the file and tensor named, and a tensor handed out later is always backed by valid bytes.
 */
public final class SafeTensorsFile implements AutoCloseable {

    /** Headers larger than this are not model files; refusing them avoids mapping a huge JSON by mistake. */
    private static final long MAX_HEADER_BYTES = 100L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final SequencedMap<String, Entry> entries;
    private final Map<String, String> metadata;

    /** Where a tensor's bytes are, relative to the start of the data section. */
    public record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    private SafeTensorsFile(Path path, Arena arena, MemorySegment data, SequencedMap<String, Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.entries = entries;
        this.metadata = metadata;
    }

    public static SafeTensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) throw new FormatException(path + ": truncated safetensors file (" + size + " bytes, no header length)");
            MemorySegment whole = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLength = whole.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
                throw new FormatException(path + ": header length " + headerLength + " does not fit a file of " + size + " bytes (truncated?)");
            }
            byte[] headerBytes = whole.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment data = whole.asSlice(8 + headerLength);
            JsonNode header;
            try {
                header = JSON.readTree(new String(headerBytes, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new FormatException(path + ": header is not valid JSON: " + e.getMessage(), e);
            }
            if (header == null || !header.isObject()) throw new FormatException(path + ": header is not a JSON object");
            Map<String, String> metadata = new LinkedHashMap<>();
            SequencedMap<String, Entry> entries = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                if (field.getKey().equals("__metadata__")) {
                    field.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                } else {
                    entries.put(field.getKey(), parseEntry(path, field.getKey(), field.getValue(), data.byteSize()));
                }
            }
            checkNoOverlap(path, entries.values());
            return new SafeTensorsFile(path, arena, data, entries, metadata);
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException("cannot read " + path, e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Entry parseEntry(Path path, String name, JsonNode node, long dataSize) {
        String where = path + ": tensor '" + name + "'";
        String dtypeName = node.path("dtype").asText(null);
        if (dtypeName == null) throw new FormatException(where + ": missing field 'dtype'");
        DType dtype = DType.bySafetensorsName(dtypeName)
                .orElseThrow(() -> new FormatException(where + ": unknown dtype '" + dtypeName + "'"));
        JsonNode shapeNode = node.path("shape");
        if (!shapeNode.isArray()) throw new FormatException(where + ": missing field 'shape'");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!shapeNode.get(i).canConvertToLong() || shapeNode.get(i).asLong() < 0) {
                throw new FormatException(where + ": field 'shape' has a bad dimension " + shapeNode.get(i));
            }
            shape[i] = shapeNode.get(i).asLong();
        }
        JsonNode offsets = node.path("data_offsets");
        if (!offsets.isArray() || offsets.size() != 2 || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw new FormatException(where + ": field 'data_offsets' must be [begin, end]");
        }
        long begin = offsets.get(0).asLong(), end = offsets.get(1).asLong();
        if (begin < 0 || end < begin || end > dataSize) {
            throw new FormatException(where + ": field 'data_offsets' [" + begin + ", " + end + "] runs outside the "
                    + dataSize + " data bytes (truncated file?)");
        }
        long expected;
        try {
            expected = Math.multiplyExact(HostTensor.elementCount(shape), dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new FormatException(where + ": field 'shape' is too large");
        }
        if (end - begin != expected) {
            throw new FormatException(where + ": field 'data_offsets' spans " + (end - begin) + " bytes but shape and dtype need " + expected);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static void checkNoOverlap(Path path, Collection<Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        for (int i = 1; i < sorted.size(); i++) {
            Entry prev = sorted.get(i - 1), cur = sorted.get(i);
            if (cur.begin() < prev.end()) {
                throw new FormatException(path + ": field 'data_offsets' of tensor '" + cur.name() + "' overlaps tensor '" + prev.name() + "'");
            }
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, String> metadata() {
        return Map.copyOf(metadata);
    }

    public List<String> names() {
        return List.copyOf(entries.keySet());
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    public Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new FormatException(path + ": no tensor '" + name + "'");
        return e;
    }

    /** The tensor's bytes, a view into the mapping: valid until this file is closed. */
    public HostTensor tensor(String name) {
        Entry e = entry(name);
        return new HostTensor(e.dtype(), e.shape(), data.asSlice(e.begin(), e.end() - e.begin()));
    }

    @Override
    public void close() {
        arena.close();
    }
}
