package dev.pricer.eval.tester;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The Tester's reports as terminal tables (ANSI colours optional) and as plain maps for JSON. */
public final class Tables {

    private static final String RESET = "\u001b[0m";

    private Tables() {
    }

    /** One line per item in its colour: truth, guess, error, squared log error, title. */
    public static String items(Report report, boolean ansi) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%5s %10s %10s %10s %7s  %s%n", "#", "truth", "guess", "error", "sle", "item"));
        int i = 0;
        for (Scored s : report.items()) {
            String line = String.format(Locale.ROOT, "%5d %10.2f %10.2f %10.2f %7.3f  %s%s", ++i, s.truth(), s.guess(),
                    s.error(), s.squaredLogError(), s.miss() ? "(not a number) " : "", shorten(s.title(), 40));
            out.append(ansi ? s.colour().ansi() + line + RESET : line + "  " + s.colour().name().toLowerCase(Locale.ROOT)).append('\n');
        }
        return out.toString();
    }

    /** Every estimator in one table, best average error first. */
    public static String comparison(List<Report> reports) {
        int width = Math.max(9, reports.stream().mapToInt(r -> r.name().length()).max().orElse(0));
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%-" + width + "s %12s %8s %8s %7s %6s%n", "estimator", "avg error", "RMSLE", "hits", "misses", "items"));
        for (Report r : reports.stream().sorted(java.util.Comparator.comparingDouble(Report::averageError)).toList()) {
            out.append(String.format(Locale.ROOT, "%-" + width + "s %12s %8.3f %7.1f%% %7d %6d%n", r.name(),
                    String.format(Locale.ROOT, "$%,.2f", r.averageError()), r.rmsle(), r.hits(), r.misses(), r.items().size()));
        }
        return out.toString();
    }

    public static Map<String, Object> summary(Report r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        m.put("items", r.items().size());
        m.put("average_error", r.averageError());
        m.put("rmsle", r.rmsle());
        m.put("hits", r.hits());
        m.put("misses", r.misses());
        m.put("green", r.count(Colour.GREEN));
        m.put("orange", r.count(Colour.ORANGE));
        m.put("red", r.count(Colour.RED));
        return m;
    }

    public static Map<String, Object> detailed(Report r) {
        Map<String, Object> m = summary(r);
        m.put("results", r.items().stream().map(s -> {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("title", s.title());
            row.put("truth", s.truth());
            row.put("guess", s.guess());
            row.put("miss", s.miss());
            row.put("error", s.error());
            row.put("squared_log_error", s.squaredLogError());
            row.put("colour", s.colour().name().toLowerCase(Locale.ROOT));
            return row;
        }).toList());
        return m;
    }

    private static String shorten(String s, int max) {
        String flat = s.replace('\n', ' ');
        return flat.length() <= max ? flat : flat.substring(0, max - 1) + "…";
    }
}
