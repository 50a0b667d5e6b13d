package dev.pricer.data.read;

import java.util.Map;
import dev.pricer.data.Item;
import dev.pricer.data.Prompts;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Properties;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * Streams the items of a {@link Source}, file after file, in file order. DuckDB scans each file (Parquet,
 * JSON Lines, CSV) and hands results over as they come, so memory stays flat however long the file. A record
 * that cannot become an item comes out as {@link Row.Skipped}, with its place and the reason; only a file that
 * cannot be read at all (wrong type, missing columns) stops the reading, with a {@link DataFileException}.
 */
public final class ItemReader implements Iterator<Row>, AutoCloseable {

    /** Raw Amazon files are named after their category: {@code meta_Appliances.jsonl}. */
    private static final Pattern AMAZON_FILE = Pattern.compile("meta_(.+?)\\.jsonl?(\\.gz)?", Pattern.CASE_INSENSITIVE);
    private static final List<String> AMAZON_FIELDS = List.of("title", "description", "features", "details", "price", "main_category");
    private static final long MAX_LINE_BYTES = 256L << 20;

    private final Source source;
    private final Connection db;
    private int nextFile;
    private FileScan scan;
    private Supplier<Row> next;
    private long rows;

    private ItemReader(Source source, Connection db) {
        this.source = source;
        this.db = db;
    }

    public static ItemReader open(Source source) {
        try {
            Properties props = new Properties();
            props.setProperty("jdbc_stream_results", "true");
            return new ItemReader(source, DriverManager.getConnection("jdbc:duckdb:", props));
        } catch (SQLException e) {
            throw new IllegalStateException("cannot start DuckDB: " + e.getMessage(), e);
        }
    }

    /** The layout of the source's first file, as given or as told from its columns. */
    public static Layout detect(Source source) {
        try (ItemReader reader = open(source)) {
            Path file = source.files().getFirst();
            return reader.layoutOf(file, FileFormat.of(file), reader.columnsOf(file, FileFormat.of(file)));
        }
    }

    /** Records read so far, skipped ones included. */
    public long rows() {
        return rows;
    }

    @Override
    public boolean hasNext() {
        while (next == null) {
            if (scan == null) {
                if (nextFile == source.files().size()) return false;
                scan = new FileScan(source.files().get(nextFile++));
            }
            next = scan.next();
            if (next == null) {
                scan.close();
                scan = null;
            }
        }
        return true;
    }

    @Override
    public Row next() {
        return nextDeferred().get();
    }

    /**
     * The next record, to be turned into a row later and on any thread: the scan stays on the caller's thread,
     * while reading the record's values into an item (the costly part) can run on workers.
     */
    public Supplier<Row> nextDeferred() {
        if (!hasNext()) throw new NoSuchElementException();
        Supplier<Row> row = next;
        next = null;
        rows++;
        return row;
    }

    @Override
    public void close() {
        if (scan != null) scan.close();
        try {
            db.close();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot close DuckDB", e);
        }
    }

    /** One file's scan: its query, its result cursor, and (for CSV) the records DuckDB rejected. */
    private final class FileScan {
        private final Path file;
        private final FileFormat format;
        private final Layout layout;
        private final Values values;
        private final String category;
        private final Statement statement;
        private final ResultSet results;
        private final int fieldCount;
        private final ArrayDeque<RejectedRecord> rejected = new ArrayDeque<>();
        private final String rejectsTable;
        private long record;
        private boolean exhausted;

        FileScan(Path file) {
            this.file = file;
            this.format = FileFormat.of(file);
            checkContents(file, format);
            List<String> columns = columnsOf(file, format);
            this.layout = layoutOf(file, format, columns);
            List<String> fields = fields(layout);
            List<String> required = required(layout);
            if (format != FileFormat.JSONL) {
                for (String r : required) {
                    if (!columns.contains(r)) {
                        throw new DataFileException(file, "no column '" + r + "' (columns: " + String.join(", ", columns) + ")");
                    }
                }
            }
            this.fieldCount = fields.size();
            this.values = new Values(format != FileFormat.CSV && format != FileFormat.TSV);
            this.category = categoryOf(file);
            this.rejectsTable = "rejects_" + nextFile;
            String sql = switch (format) {
                case JSONL -> jsonlQuery(file, fields);
                case PARQUET -> parquetQuery(file, fields, columns);
                case CSV, TSV -> {
                    loadRejects(csvQuery(file, format, "count(*)", columns, rejectsTable, true));
                    yield csvQuery(file, format, csvSelect(fields, columns), columns, rejectsTable, false);
                }
            };
            try {
                statement = db.createStatement();
                results = statement.executeQuery(sql);
            } catch (SQLException e) {
                throw new DataFileException(file, "cannot read as " + format.name().toLowerCase(Locale.ROOT) + ": " + reason(e, file, format), e);
            }
        }

        Supplier<Row> next() {
            // CSV records DuckDB could not parse come first in their place, so every record keeps its number.
            if (!rejected.isEmpty() && rejected.peek().number() == record + 1) {
                record++;
                return done(rejected.poll().row());
            }
            if (!exhausted) {
                try {
                    while (results.next()) {
                        record++;
                        Supplier<Row> row = format == FileFormat.JSONL ? jsonlRow() : tableRow();
                        if (row != null) return row;
                    }
                } catch (SQLException e) {
                    // DuckDB stops at the first broken page of a file; the records before it were read.
                    exhausted = true;
                    return done(new Row.Skipped(file, place(record + 1), "rest of file unreadable: " + reason(e, file, format)));
                }
                exhausted = true;
            }
            RejectedRecord rest = rejected.poll();
            return rest == null ? null : done(rest.row());
        }

        private Supplier<Row> jsonlRow() throws SQLException {
            int status = results.getInt(1);
            return switch (status) {
                case 0 -> null;
                case 1 -> done(new Row.Skipped(file, place(record), "malformed JSON"));
                case 2 -> done(new Row.Skipped(file, place(record), "not a JSON object"));
                default -> deferred(fieldsOf(results.getArray(2)));
            };
        }

        private Supplier<Row> tableRow() throws SQLException {
            String[] raw = new String[fieldCount];
            for (int i = 0; i < fieldCount; i++) raw[i] = results.getString(i + 1);
            if (format == FileFormat.PARQUET) record = results.getLong(fieldCount + 1) + 1;
            return deferred(raw);
        }

        private String[] fieldsOf(java.sql.Array array) throws SQLException {
            Object[] items = (Object[]) array.getArray();
            String[] raw = new String[fieldCount];
            for (int i = 0; i < fieldCount; i++) raw[i] = items[i] == null ? null : items[i].toString();
            return raw;
        }

        private Supplier<Row> deferred(String[] raw) {
            String where = place(record);
            return () -> item(raw, where);
        }

        /** Reads one record's values into an item; touches no mutable state of the scan, so any thread may call it. */
        private Row item(String[] raw, String where) {
            try {
                Item item = switch (layout) {
                    case PROMPTS -> promptItem(raw);
                    case AMAZON -> amazonItem(raw);
                    case COLUMNS -> columnsItem(raw);
                };
                return new Row.Parsed(where, item);
            } catch (Prices.BadValue e) {
                return new Row.Skipped(file, where, e.getMessage());
            }
        }

        private Item promptItem(String[] raw) {
            String text = values.text(raw[0]);
            double price = Prices.parse(values.text(raw[1]), "price");
            if (text == null || text.isBlank()) throw new Prices.BadValue("empty text");
            String body = Prompts.textOf(text);
            if (body == null) body = text;
            String cat = category != null ? category : orEmpty(values.text(raw[2]));
            int newline = body.indexOf('\n');
            return newline < 0 ? Item.ofText("", body, cat, price)
                    : Item.ofText(body.substring(0, newline), body.substring(newline + 1), cat, price);
        }

        private Item amazonItem(String[] raw) {
            String title = orEmpty(values.text(raw[0]));
            List<String> description = values.list(raw[1]);
            List<String> features = values.list(raw[2]);
            var details = values.map(raw[3]);
            double price = Prices.parse(values.text(raw[4]), "price");
            if (title.isBlank() && description.isEmpty() && features.isEmpty() && details.isEmpty()) {
                throw new Prices.BadValue("empty text");
            }
            String cat = category != null ? category : orEmpty(values.text(raw[5]));
            return new Item(title, cat, description, features, details, price);
        }

        private Item columnsItem(String[] raw) {
            Columns columns = source.columns();
            String title = "";
            List<String> parts = new ArrayList<>();
            for (int i = 0; i < columns.text().size(); i++) {
                String value = values.text(raw[i]);
                if (value == null || value.isBlank()) continue;
                if (columns.text().get(i).equalsIgnoreCase("title")) title = value;
                else parts.add(value);
            }
            int n = columns.text().size();
            double price = Prices.parse(values.text(raw[n]), columns.price());
            if (title.isBlank() && parts.isEmpty()) throw new Prices.BadValue("empty text (columns " + String.join(", ", columns.text()) + ")");
            String cat = category != null ? category : columns.category() == null ? "" : orEmpty(values.text(raw[n + 1]));
            return new Item(title, cat, parts, List.of(), Map.of(), price);
        }

        private String place(long n) {
            return switch (format) {
                case JSONL -> "line " + n;
                case PARQUET -> "row " + n;
                case CSV, TSV -> "record " + n;
            };
        }

        /**
         * DuckDB reports a rejected CSV record by its line among all records, header included. A first pass
         * collects them, so the main pass can number every record.
         */
        private void loadRejects(String countQuery) {
            String sql = "SELECT line, column_name, error_message FROM " + rejectsTable + " ORDER BY line";
            try (Statement s = db.createStatement()) {
                try (ResultSet count = s.executeQuery(countQuery)) {
                    while (count.next()) {
                        // results stream: the scan (and its list of rejects) completes only once fetched to the end
                    }
                }
                try (ResultSet r = s.executeQuery(sql)) {
                    while (r.next()) {
                        long number = r.getLong(1) - 1;
                        String column = r.getString(2);
                        rejected.add(new RejectedRecord(number, new Row.Skipped(file, place(number), "malformed CSV"
                                + (column == null ? "" : " at column '" + column + "'") + ": " + r.getString(3))));
                    }
                }
            } catch (SQLException e) {
                throw new DataFileException(file, "cannot read as CSV: " + reason(e, file, format), e);
            }
        }

        void close() {
            try {
                results.close();
                statement.close();
            } catch (SQLException e) {
                throw new IllegalStateException("cannot close the scan of " + file, e);
            }
        }
    }

    private static Supplier<Row> done(Row row) {
        return () -> row;
    }

    /** A CSV record DuckDB rejected, and its number among the file's records. */
    private record RejectedRecord(long number, Row row) {}

    private String categoryOf(Path file) {
        if (source.category() != null) return source.category();
        Matcher m = AMAZON_FILE.matcher(file.getFileName().toString());
        return m.matches() ? m.group(1) : null;
    }

    private List<String> fields(Layout layout) {
        return switch (layout) {
            case PROMPTS -> List.of("text", "price", "category");
            case AMAZON -> AMAZON_FIELDS;
            case COLUMNS -> {
                List<String> f = new ArrayList<>(source.columns().text());
                f.add(source.columns().price());
                if (source.columns().category() != null) f.add(source.columns().category());
                yield f;
            }
        };
    }

    private List<String> required(Layout layout) {
        return switch (layout) {
            case PROMPTS -> List.of("text", "price");
            case AMAZON -> List.of("title", "price");
            case COLUMNS -> fields(layout);
        };
    }

    Layout layoutOf(Path file, FileFormat format, List<String> columns) {
        if (source.layout() != null) return source.layout();
        if (columns.contains("text") && columns.contains("price")) return Layout.PROMPTS;
        if (columns.contains("title") && columns.contains("price")
                && (columns.contains("features") || columns.contains("description") || columns.contains("details"))) {
            return Layout.AMAZON;
        }
        throw new DataFileException(file, "cannot tell what the columns mean (" + String.join(", ", columns)
                + "): expected text and price (a prompt dataset), title, description, features, details and price"
                + " (Amazon metadata), or name them with --text-columns and --price-column");
    }

    /** Column names: a Parquet schema, a CSV header, or the keys of the first JSON object in the file. */
    List<String> columnsOf(Path file, FileFormat format) {
        String sql = switch (format) {
            case PARQUET -> "SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(" + literal(file) + "))";
            case JSONL -> "SELECT unnest(json_keys(line)) FROM (SELECT line FROM " + lines(file)
                    + " WHERE json_valid(line) AND json_type(line) = 'OBJECT' LIMIT 1)";
            case CSV, TSV -> null;
        };
        if (sql == null) return csvHeader(file, format);
        List<String> names = new ArrayList<>();
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery(sql)) {
            while (r.next()) names.add(r.getString(1));
        } catch (SQLException e) {
            String what = format == FileFormat.PARQUET ? "not a Parquet file" : "cannot read as JSON Lines";
            throw new DataFileException(file, what + ": " + reason(e, file, format), e);
        }
        if (names.isEmpty()) throw new DataFileException(file, "no JSON object on any line");
        return names;
    }

    /** The header record, parsed by DuckDB's CSV reader from a copy of the file's first line. */
    private List<String> csvHeader(Path file, FileFormat format) {
        String first;
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT line FROM " + lines(file) + " LIMIT 1")) {
            first = r.next() ? r.getString(1) : null;
        } catch (SQLException e) {
            throw new DataFileException(file, "cannot read as text: " + reason(e, file, format), e);
        }
        if (first == null || first.isBlank()) throw new DataFileException(file, "empty file: no CSV header");
        Path header = null;
        try {
            header = Files.createTempFile("pricer-header", ".csv");
            Files.writeString(header, first + "\n");
            String sql = "SELECT * FROM read_csv(" + literal(header) + ", header=false, all_varchar=true, "
                    + dialect(format) + ")";
            try (Statement s = db.createStatement(); ResultSet r = s.executeQuery(sql)) {
                if (!r.next()) throw new DataFileException(file, "empty CSV header");
                List<String> names = new ArrayList<>();
                for (int i = 1; i <= r.getMetaData().getColumnCount(); i++) names.add(r.getString(i));
                return names;
            }
        } catch (SQLException e) {
            throw new DataFileException(file, "cannot parse the CSV header: " + firstLine(e), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (header != null) {
                try {
                    Files.deleteIfExists(header);
                } catch (IOException ignored) {
                    // a leftover temp file of one line is harmless
                }
            }
        }
    }

    /** Each line as one value: a delimiter and quote that JSON text never holds unescaped, no sniffing. */
    private static String lines(Path file) {
        return "read_csv(" + literal(file) + ", columns={'line': 'VARCHAR'}, header=false, delim=E'\\x1f',"
                + " quote='', escape='', auto_detect=false, strict_mode=false, max_line_size=" + MAX_LINE_BYTES + ")";
    }

    /** Status 0 blank, 1 malformed, 2 not an object, 3 an object whose fields follow as a list of JSON values. */
    private static String jsonlQuery(Path file, List<String> fields) {
        String paths = String.join(", ", fields.stream().map(f -> "'$.\"" + f.replace("'", "''").replace("\"", "\\\"") + "\"'").toList());
        return "SELECT status, CASE WHEN status = 3 THEN json_extract(line, [" + paths + "]) END FROM ("
                + "SELECT line, CASE WHEN line IS NULL OR trim(line) = '' THEN 0 WHEN NOT json_valid(line) THEN 1"
                + " WHEN json_type(line) <> 'OBJECT' THEN 2 ELSE 3 END AS status FROM " + lines(file) + ")";
    }

    private static String parquetQuery(Path file, List<String> fields, List<String> columns) {
        List<String> select = fields.stream().map(f -> columns.contains(f) ? "to_json(" + ident(f) + ")::VARCHAR" : "NULL").toList();
        return "SELECT " + String.join(", ", select) + ", file_row_number FROM read_parquet(" + literal(file)
                + ", file_row_number=true)";
    }

    /** With {@code storeRejects} DuckDB lists the records it cannot parse; otherwise it passes over them. */
    private static String csvSelect(List<String> fields, List<String> columns) {
        return String.join(", ", fields.stream().map(f -> columns.contains(f) ? ident(f) : "NULL").toList());
    }

    private static String csvQuery(Path file, FileFormat format, String select, List<String> columns, String rejects,
                                   boolean storeRejects) {
        String types = String.join(", ", columns.stream().map(c -> literal(c) + ": 'VARCHAR'").toList());
        return "SELECT " + select + " FROM read_csv(" + literal(file) + ", header=true, auto_detect=false, "
                + dialect(format) + ", columns={" + types + "}, "
                + (storeRejects ? "store_rejects=true, rejects_table='" + rejects + "', rejects_scan='" + rejects + "_scan'" : "ignore_errors=true")
                + ", max_line_size=" + MAX_LINE_BYTES + ")";
    }

    private static String dialect(FileFormat format) {
        return "delim=" + (format == FileFormat.TSV ? "E'\\t'" : "','") + ", quote='\"', escape='\"'";
    }

    /**
     * Catches a file whose bytes contradict its extension before DuckDB reports something cryptic: compressed
     * data without {@code .gz}, Parquet or binary data under a text extension, text that is not JSON Lines.
     */
    private static void checkContents(Path file, FileFormat format) {
        byte[] head = head(file);
        boolean gz = file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
        if (!gz && head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            throw new DataFileException(file, "is gzip-compressed data but its name does not end in .gz");
        }
        if (format == FileFormat.PARQUET) return;
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'A' && head[2] == 'R' && head[3] == '1') {
            throw new DataFileException(file, "is a Parquet file, not " + format.name().toLowerCase(Locale.ROOT) + " text; name it .parquet");
        }
        for (byte b : head) {
            if (b == 0) throw new DataFileException(file, "holds binary data, not " + format.name().toLowerCase(Locale.ROOT) + " text");
        }
        if (format == FileFormat.JSONL) {
            String text = new String(head, java.nio.charset.StandardCharsets.UTF_8).replace("\uFEFF", "").stripLeading();
            if (!text.isEmpty() && text.charAt(0) != '{') {
                throw new DataFileException(file, "is not JSON Lines: it starts with '"
                        + Prices.abbreviate(text.lines().findFirst().orElse("")) + "', not a JSON object");
            }
        }
    }

    private static byte[] head(Path file) {
        try (InputStream raw = Files.newInputStream(file)) {
            byte[] magic = raw.readNBytes(2);
            boolean gz = magic.length == 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b
                    && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz");
            if (!gz) {
                byte[] rest = raw.readNBytes(4094);
                byte[] all = Arrays.copyOf(magic, magic.length + rest.length);
                System.arraycopy(rest, 0, all, magic.length, rest.length);
                return all;
            }
        } catch (IOException e) {
            throw new DataFileException(file, "cannot read: " + e.getMessage(), e);
        }
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return in.readNBytes(4096);
        } catch (IOException e) {
            throw new DataFileException(file, "is not valid gzip data: " + e.getMessage(), e);
        }
    }

    static String literal(Path file) {
        return literal(file.toAbsolutePath().toString());
    }

    static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    private static String ident(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    /**
     * Why DuckDB could not read the file. A streamed result set that fails while fetching says only "Invalid result
     * set"; the file read once more without streaming shows the cause (a gzip stream cut short, say), so this error
     * path alone pays a second read.
     */
    private static String reason(SQLException e, Path file, FileFormat format) {
        String message = firstLine(e);
        if (!message.contains("Invalid result set")) return message;
        String source = format == FileFormat.PARQUET ? "read_parquet(" + literal(file) + ")" : lines(file);
        try (Connection unstreamed = DriverManager.getConnection("jdbc:duckdb:"); Statement s = unstreamed.createStatement()) {
            s.executeQuery("SELECT count(*) FROM " + source).close();
            return message;
        } catch (SQLException cause) {
            return firstLine(cause);
        }
    }

    private static String firstLine(SQLException e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
