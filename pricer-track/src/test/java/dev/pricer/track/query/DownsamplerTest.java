package dev.pricer.track.query;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DownsamplerTest {

    private static long[] steps(int n) {
        long[] s = new long[n];
        for (int i = 0; i < n; i++) s[i] = i + 1;
        return s;
    }

    @Test
    void fewerPointsThanBucketsComeBackRaw() {
        long[] step = steps(3);
        double[] value = {1, Double.NaN, 3};
        Downsampler.Buckets b = Downsampler.downsample(step, step, value, 0, 3, 10);
        assertEquals(3, b.size());
        assertArrayEquals(step, b.step());
        assertTrue(Double.isNaN(b.last()[1]));
    }

    @Test
    void bucketsKeepMinMaxAndLastSoSpikesSurvive() {
        int n = 10_000;
        long[] step = steps(n);
        double[] value = new double[n];
        for (int i = 0; i < n; i++) value[i] = 1.0;
        value[4_321] = 100.0;
        value[7_000] = -5.0;
        Downsampler.Buckets b = Downsampler.downsample(step, step, value, 0, n, 100).trimmed();
        assertEquals(100, b.size());
        double max = Double.NEGATIVE_INFINITY, min = Double.POSITIVE_INFINITY;
        for (int i = 0; i < b.size(); i++) {
            max = Math.max(max, b.max()[i]);
            min = Math.min(min, b.min()[i]);
            assertEquals((i + 1) * 100L, b.step()[i], "each bucket reports its last point's step");
        }
        assertEquals(100.0, max);
        assertEquals(-5.0, min);
        assertEquals(100.0, b.max()[43]);
        assertEquals(1.0, b.last()[43]);
    }

    @Test
    void aBucketWithANonFiniteValueShowsAGap() {
        int n = 1_000;
        long[] step = steps(n);
        double[] value = new double[n];
        value[505] = Double.POSITIVE_INFINITY;
        Downsampler.Buckets b = Downsampler.downsample(step, step, value, 0, n, 10);
        assertTrue(Double.isNaN(b.last()[5]));
        assertEquals(0.0, b.max()[5], "min and max are over finite values");
        assertEquals(0.0, b.last()[4]);
    }

    @Test
    void aStepRangeSelectsBySearch() {
        long[] step = steps(100);
        assertEquals(9, Downsampler.lowerBound(step, 0, 100, 10));
        assertEquals(100, Downsampler.lowerBound(step, 0, 100, 1_000));
        assertEquals(0, Downsampler.lowerBound(step, 0, 100, -5));
    }
}
