package dev.pricer.track.store;

import dev.pricer.track.model.RunInfo;

import java.util.Comparator;

/** Sort orders for run listings: by a column, a config value or a last metric value. */
final class RunOrder {

    private RunOrder() {
    }

    static Comparator<RunInfo> of(String sort, boolean descending) {
        String by = sort == null ? "started" : sort;
        Comparator<RunInfo> order;
        if (by.startsWith("config.")) {
            String key = by.substring("config.".length());
            order = Comparator.comparing((RunInfo r) -> r.config().get(key), RunOrder::compareText);
        } else if (by.startsWith("metric.")) {
            String key = by.substring("metric.".length());
            order = Comparator.comparing((RunInfo r) -> r.lastValues().get(key), Comparator.nullsLast(Double::compare));
        } else {
            order = switch (by) {
                case "name" -> Comparator.comparing(RunInfo::name);
                case "started" -> Comparator.comparingLong(RunInfo::startedMs);
                case "status" -> Comparator.comparing(RunInfo::status);
                case "duration" -> Comparator.comparingLong(RunOrder::duration);
                default -> throw new IllegalArgumentException(
                        "cannot sort runs by '" + by + "' (name, started, status, duration, config.KEY or metric.KEY)");
            };
        }
        return descending ? order.reversed() : order;
    }

    private static long duration(RunInfo run) {
        long end = run.endedMs() != null ? run.endedMs() : Math.max(run.heartbeatMs(), run.startedMs());
        return end - run.startedMs();
    }

    /** Numbers compare as numbers, so lr=1e-4 sorts before lr=2e-4 and 16 after 8; missing values last. */
    private static int compareText(String a, String b) {
        if (a == null || b == null) return a == null ? (b == null ? 0 : 1) : -1;
        try {
            return Double.compare(Double.parseDouble(a), Double.parseDouble(b));
        } catch (NumberFormatException e) {
            return a.compareTo(b);
        }
    }
}
