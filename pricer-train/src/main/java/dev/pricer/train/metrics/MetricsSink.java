package dev.pricer.train.metrics;

import java.io.IOException;
import java.util.Map;

/**
 * Where logged metrics go, by optimizer step: {@code train/loss}, {@code train/learning_rate},
 * {@code train/grad_norm}, {@code train/epoch}, {@code train/tokens_per_second}, {@code eval/loss}. The
 * tracking client implements it; without a tracker they go to {@link JsonlMetricsSink}. A sink must not
 * block the training loop for long.
 */
public interface MetricsSink extends AutoCloseable {

    void log(int step, Map<String, Double> metrics) throws IOException;

    @Override
    void close() throws IOException;
}
