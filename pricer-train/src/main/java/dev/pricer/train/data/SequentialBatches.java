package dev.pricer.train.data;

import dev.pricer.core.model.Batch;

/** The examples in their stored order, every epoch alike: evaluation, and data that comes already ordered. */
public final class SequentialBatches implements BatchSource {

    private final int padId;
    private final EncodedDataset data;
    private final int batchSize;

    public SequentialBatches(EncodedDataset data, int padId, int batchSize) {
        if (data.size() == 0) throw new IllegalArgumentException("no examples");
        this.padId = padId;
        this.data = data;
        this.batchSize = batchSize;
    }

    @Override
    public int microBatchesPerEpoch() {
        return Math.ceilDiv(data.size(), batchSize);
    }

    @Override
    public Batch microBatch(int epoch, int index) {
        int from = index * batchSize;
        int[] idx = new int[Math.min(batchSize, data.size() - from)];
        for (int i = 0; i < idx.length; i++) idx[i] = from + i;
        return data.batch(idx, padId);
    }

    @Override
    public int examples() {
        return data.size();
    }

    @Override
    public String fingerprint() {
        return data.fingerprint() + "/sequential:" + batchSize;
    }
}
