package dev.pricer.data.read;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A page of a split's rows as they are stored, every column, for a dataset viewer: the rows {@code [offset, offset +
 * length)} of the files read one after the other, and how many rows they hold in all. Numbers, booleans and text keep
 * their type; anything else (lists, structs, dates) comes as its text.
 */
public record RowPage(List<String> columns, List<Map<String, Object>> rows, long offset, long total) {

    public static final int MOST_ROWS = 100;

    public static RowPage read(List<Path> files, long offset, int length) {
        if (offset < 0) throw new IllegalArgumentException("offset must be 0 or more, not " + offset);
        if (length < 1 || length > MOST_ROWS) throw new IllegalArgumentException("length must be 1 to " + MOST_ROWS + ", not " + length);
        String table = table(files);
        try (Connection db = DriverManager.getConnection("jdbc:duckdb:"); Statement count = db.createStatement();
             PreparedStatement page = db.prepareStatement("SELECT * FROM " + table + " LIMIT ? OFFSET ?")) {
            long total;
            try (ResultSet r = count.executeQuery("SELECT count(*) FROM " + table)) {
                r.next();
                total = r.getLong(1);
            }
            page.setInt(1, length);
            page.setLong(2, offset);
            try (ResultSet r = page.executeQuery()) {
                ResultSetMetaData meta = r.getMetaData();
                List<String> columns = new ArrayList<>();
                for (int c = 1; c <= meta.getColumnCount(); c++) columns.add(meta.getColumnLabel(c));
                List<Map<String, Object>> rows = new ArrayList<>();
                while (r.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int c = 1; c <= columns.size(); c++) row.put(columns.get(c - 1), value(r.getObject(c)));
                    rows.add(row);
                }
                return new RowPage(columns, rows, offset, total);
            }
        } catch (SQLException e) {
            throw new DataFileException(files.getFirst(), "cannot read its rows: " + e.getMessage());
        }
    }

    /** The files as one table: a split's shards share their format. */
    private static String table(List<Path> files) {
        FileFormat format = FileFormat.of(files.getFirst());
        String list = "[" + String.join(", ", files.stream().map(ItemReader::literal).toList()) + "]";
        return switch (format) {
            case PARQUET -> "read_parquet(" + list + ")";
            case JSONL -> "read_json_auto(" + list + ", format='newline_delimited')";
            case CSV -> "read_csv_auto(" + list + ", header=true)";
            case TSV -> "read_csv_auto(" + list + ", header=true, delim='\\t')";
        };
    }

    private static Object value(Object cell) {
        return cell == null || cell instanceof Number || cell instanceof Boolean || cell instanceof String ? cell : cell.toString();
    }
}
