package dev.pricer.data;

import dev.pricer.core.tokenizer.Tokenizer;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/** Shared fixtures: the Llama 3.1 tokenizer and a way to write small Parquet files with DuckDB. */
public final class TestData {

    private TestData() {
    }

    public static Tokenizer llama() {
        try {
            return Tokenizer.load(Path.of(TestData.class.getResource("/tokenizers/llama-3.1-tokenizer.json.gz").toURI()));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs DuckDB statements, such as {@code COPY (SELECT ...) TO 'x.parquet'}, to make fixtures. */
    public static void duckdb(String... sql) {
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement()) {
            for (String q : sql) s.execute(q);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String words(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append(i == 0 ? "" : " ").append("word").append((char) ('a' + i % 26));
        return b.toString();
    }
}
