package dev.pricer.train.data;

import dev.pricer.core.model.Batch;

/** Training batches: the examples in {@link DataOrder}'s seeded order for each epoch, collated on demand. */
public final class ShuffledBatches implements BatchSource {

    private final int padId;
    private final EncodedDataset data;
    private final DataOrder order;
    private final String fingerprint;
    private int cachedEpoch = -1;
    private int[][] cached;

    public ShuffledBatches(EncodedDataset data, int padId, int batchSize, long seed, boolean groupByLength) {
        this.padId = padId;
        this.data = data;
        this.order = new DataOrder(data.lengths(), batchSize, seed, groupByLength);
        this.fingerprint = data.fingerprint() + "/shuffled:" + batchSize + ":" + seed + (groupByLength ? ":by-length" : "");
    }

    @Override
    public int microBatchesPerEpoch() {
        return order.microBatchesPerEpoch();
    }

    @Override
    public Batch microBatch(int epoch, int index) {
        if (epoch != cachedEpoch) {
            cached = order.epoch(epoch);
            cachedEpoch = epoch;
        }
        return data.batch(cached[index], padId);
    }

    @Override
    public int examples() {
        return data.size();
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }
}
