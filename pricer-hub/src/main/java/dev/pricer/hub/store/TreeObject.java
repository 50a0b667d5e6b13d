package dev.pricer.hub.store;

import dev.pricer.hub.FileEntry;
import dev.pricer.hub.HubException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** A commit's files, flat and sorted by path, one {@code <sha256> <size> <path>} line each; its id is the sha256 of that text. */
record TreeObject(List<FileEntry> files) {

    TreeObject {
        files = files.stream().sorted(Comparator.comparing(FileEntry::path)).toList();
    }

    static TreeObject of(Collection<FileEntry> files) {
        return new TreeObject(List.copyOf(files));
    }

    byte[] bytes() {
        StringBuilder text = new StringBuilder();
        for (FileEntry file : files) text.append(file.sha256()).append(' ').append(file.size()).append(' ').append(file.path()).append('\n');
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    String id() {
        return Hashing.sha256(bytes());
    }

    static TreeObject parse(String id, byte[] bytes) {
        List<FileEntry> files = new ArrayList<>();
        for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
            if (line.isEmpty()) continue;
            String[] parts = line.split(" ", 3);
            if (parts.length != 3) throw new HubException.Failure("tree " + id + " is corrupt: bad line '" + line + "'", null);
            files.add(new FileEntry(parts[2], Long.parseLong(parts[1]), parts[0]));
        }
        return new TreeObject(files);
    }
}
