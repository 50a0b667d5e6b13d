package dev.pricer.track.store;

import org.sqlite.SQLiteConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Opens connections to a store's database. Only this class knows it is SQLite: everything else speaks
 * portable SQL, so a PostgreSQL store needs another {@code Database}, not another store.
 */
public interface Database {

    Connection connect() throws SQLException;

    /** A name for messages: the file or the URL. */
    String describe();

    /**
     * A SQLite file in WAL mode: readers never block the writer, and a committed transaction survives the
     * process being killed. {@code synchronous=NORMAL} trades the last transactions on a power cut for
     * not waiting on fsync at every batch (see API.md, Durability).
     */
    static Database sqlite(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the folder of the track store " + file, e);
        }
        String url = "jdbc:sqlite:" + file.toAbsolutePath();
        return new Database() {
            @Override
            public Connection connect() throws SQLException {
                SQLiteConfig config = new SQLiteConfig();
                config.setJournalMode(SQLiteConfig.JournalMode.WAL);
                config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
                config.setBusyTimeout(30_000);
                return config.createConnection(url);
            }

            @Override
            public String describe() {
                return file.toString();
            }
        };
    }
}
