package dev.pricer.server.hub;

/** One {@code Range: bytes=...} request against a file of {@code total} bytes: bytes {@code [start, start + length)}. */
record ByteRange(long start, long length, long total) {

    /** Thrown for a range that does not fit the file: the answer is 416. */
    static final class Unsatisfiable extends RuntimeException {
        final long total;

        Unsatisfiable(String header, long total) {
            super("range '" + header + "' does not fit a file of " + total + " bytes");
            this.total = total;
        }
    }

    /** Null when there is no header, or it is one this server answers with the whole file (several ranges). */
    static ByteRange parse(String header, long total) {
        if (header == null || !header.startsWith("bytes=") || header.contains(",")) return null;
        String spec = header.substring("bytes=".length()).strip();
        int dash = spec.indexOf('-');
        if (dash < 0) throw new Unsatisfiable(header, total);
        try {
            if (dash == 0) {
                long suffix = Long.parseLong(spec.substring(1));
                if (suffix <= 0 || total == 0) throw new Unsatisfiable(header, total);
                long length = Math.min(suffix, total);
                return new ByteRange(total - length, length, total);
            }
            long start = Long.parseLong(spec.substring(0, dash));
            long end = dash == spec.length() - 1 ? total - 1 : Math.min(Long.parseLong(spec.substring(dash + 1)), total - 1);
            if (start < 0 || start >= total || end < start) throw new Unsatisfiable(header, total);
            return new ByteRange(start, end - start + 1, total);
        } catch (NumberFormatException e) {
            throw new Unsatisfiable(header, total);
        }
    }

    String contentRange() {
        return "bytes " + start + "-" + (start + length - 1) + "/" + total;
    }
}
