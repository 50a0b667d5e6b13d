package dev.pricer.hub;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.LongConsumer;

/** Tells {@code moved} how many bytes each read returned, so that a transfer can show its progress. */
final class ReportingInputStream extends FilterInputStream {

    private final LongConsumer moved;

    ReportingInputStream(InputStream in, LongConsumer moved) {
        super(in);
        this.moved = moved;
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) moved.accept(1);
        return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        int n = super.read(buffer, offset, length);
        if (n > 0) moved.accept(n);
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long skipped = super.skip(n);
        if (skipped > 0) moved.accept(skipped);
        return skipped;
    }
}
