package dev.pricer.eval.tester;

import java.util.List;

/**
 * The Tester's verdict on one estimator over a set of items: average absolute error in dollars, RMSLE, hits
 * (the percentage of green items) and how many outputs were not a number.
 */
public record Report(String name, List<Scored> items, double averageError, double rmsle, double hits, int misses) {

    public Report {
        items = List.copyOf(items);
    }

    public static Report of(String name, List<Scored> items) {
        if (items.isEmpty()) throw new IllegalArgumentException("no items to report on for " + name);
        double error = 0, sle = 0;
        int green = 0, misses = 0;
        for (Scored s : items) {
            error += s.error();
            sle += s.squaredLogError();
            if (s.colour() == Colour.GREEN) green++;
            if (s.miss()) misses++;
        }
        int n = items.size();
        return new Report(name, items, error / n, Math.sqrt(sle / n), 100.0 * green / n, misses);
    }

    public long count(Colour colour) {
        return items.stream().filter(s -> s.colour() == colour).count();
    }
}
