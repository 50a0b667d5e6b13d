package dev.pricer.track.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Brings a store's schema up to date. Each migration runs in its own transaction that first claims its
 * version row, so two processes opening a fresh store at once apply it once.
 */
final class Migrations {

    /** In order; a released migration is never edited, a change is a new file. */
    private static final List<String> SCRIPTS = List.of("V1__runs_and_metrics.sql", "V2__token_owners.sql");

    private Migrations() {
    }

    static void apply(Connection connection) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        try (Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL)");
        }
        connection.setAutoCommit(false);
        try {
            for (int i = 0; i < SCRIPTS.size(); i++) {
                int version = i + 1;
                if (applied(connection, version)) continue;
                try (PreparedStatement claim = connection.prepareStatement("INSERT INTO schema_migrations (version, applied_ms) VALUES (?, ?)")) {
                    claim.setInt(1, version);
                    claim.setLong(2, System.currentTimeMillis());
                    claim.executeUpdate();
                    for (String sql : statements(SCRIPTS.get(i))) {
                        try (Statement statement = connection.createStatement()) {
                            statement.execute(sql);
                        }
                    }
                    connection.commit();
                } catch (SQLException e) {
                    connection.rollback();
                    if (!applied(connection, version)) throw new SQLException("migration " + SCRIPTS.get(i) + " failed: " + e.getMessage(), e);
                }
            }
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }

    private static boolean applied(Connection connection, int version) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT 1 FROM schema_migrations WHERE version = ?")) {
            query.setInt(1, version);
            try (var rows = query.executeQuery()) {
                return rows.next();
            }
        }
    }

    private static List<String> statements(String script) {
        try (InputStream in = Migrations.class.getResourceAsStream(script)) {
            if (in == null) throw new IllegalStateException("migration script missing from the classpath: " + script);
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            StringBuilder kept = new StringBuilder();
            for (String line : text.split("\n")) {
                if (!line.strip().startsWith("--")) kept.append(line).append('\n');
            }
            return java.util.Arrays.stream(kept.toString().split(";")).map(String::strip).filter(s -> !s.isEmpty()).toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read migration " + script, e);
        }
    }
}
