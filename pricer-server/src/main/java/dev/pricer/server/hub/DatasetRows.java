package dev.pricer.server.hub;

import dev.pricer.data.read.RowPage;
import dev.pricer.data.read.Source;
import dev.pricer.hub.FileEntry;
import dev.pricer.hub.HubException;
import dev.pricer.hub.RepoId;
import dev.pricer.hub.store.HubStore;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The dataset viewer's rows: a page of a split of a dataset repository at a commit, read where the datasets library
 * finds each split ({@link Source#splitOf}). A split's files are copied out of the hub's store once, by their
 * sha256 (content never changes under it), into {@code cache}, where the reader opens them by their extension.
 */
final class DatasetRows {

    private final HubStore store;
    private final Path cache;

    DatasetRows(HubStore store, Path cache) {
        this.store = store;
        this.cache = cache;
    }

    /** Each split of the commit and its files, by name. */
    Map<String, List<FileEntry>> splits(RepoId repo, String sha) {
        return store.files(repo, sha).stream().filter(f -> Source.splitOf(f.path()).isPresent())
            .collect(Collectors.groupingBy(f -> Source.splitOf(f.path()).orElseThrow(), TreeMap::new, Collectors.toList()));
    }

    RowPage page(RepoId repo, String sha, String split, long offset, int length) {
        Map<String, List<FileEntry>> splits = splits(repo, sha);
        List<FileEntry> files = splits.get(split);
        if (files == null) {
            throw new HubException.NotFound(HubException.Missing.ENTRY, repo.qualified() + "@" + sha.substring(0, 7) + " has no split '" + split
                + "'" + (splits.isEmpty() ? "" : " (it has " + String.join(", ", splits.keySet()) + ")"));
        }
        return RowPage.read(files.stream().map(this::local).toList(), offset, length);
    }

    /** The file's bytes in the cache, named by sha256 and the file's extension; copied whole, then moved into place. */
    private Path local(FileEntry file) {
        String name = file.path().substring(file.path().lastIndexOf('/') + 1);
        String extension = name.endsWith(".gz") ? name.substring(name.lastIndexOf('.', name.length() - 4)) : name.substring(name.lastIndexOf('.'));
        Path target = cache.resolve(file.sha256() + extension);
        if (Files.exists(target)) return target;
        try {
            Files.createDirectories(cache);
            Path temp = Files.createTempFile(cache, ".copy-", extension);
            try (InputStream in = store.openBlob(file.sha256(), 0, file.size())) {
                Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(temp);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + file.path() + " into the viewer's cache " + cache + ": " + e.getMessage(), e);
        }
    }
}
