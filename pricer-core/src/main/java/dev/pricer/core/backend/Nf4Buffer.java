package dev.pricer.core.backend;

/**
 * A frozen weight matrix {@code [rows, columns]} held by a backend in NF4 ({@link Backend#uploadNf4}): packed
 * codes and block scales, which the NF4 products decode as they go. No full dequantized copy exists.
 */
public interface Nf4Buffer {

    long rows();

    long columns();
}
