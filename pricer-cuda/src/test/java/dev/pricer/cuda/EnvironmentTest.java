package dev.pricer.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The backend's environment settings (no GPU needed): the tuning switches, the NF4 switches and counts, the SMs left
 * beside a GEMM.
 */
class EnvironmentTest {

    @Test
    void unsetEmptyOrZeroIsOff() {
        assertFalse(Environment.switchedOn(Map.of(), GemmTuner.VARIABLE));
        assertFalse(Environment.switchedOn(Map.of(GemmTuner.VARIABLE, ""), GemmTuner.VARIABLE));
        assertFalse(Environment.switchedOn(Map.of(GemmTuner.VARIABLE, "0"), GemmTuner.VARIABLE));
    }

    @Test
    void oneIsOn() {
        assertTrue(Environment.switchedOn(Map.of(GemmTuner.VARIABLE, "1"), GemmTuner.VARIABLE));
        assertTrue(Environment.switchedOn(Map.of(GemmTuner.LOG_VARIABLE, "1"), GemmTuner.LOG_VARIABLE));
        assertFalse(Environment.switchedOn(Map.of(GemmTuner.LOG_VARIABLE, "1"), GemmTuner.VARIABLE), "each switch reads its own variable");
    }

    @ParameterizedTest
    @ValueSource(strings = {"true", "yes", "2", " 1", "on"})
    void anythingElseIsAnErrorNamingTheVariableAndValue(String value) {
        var e = assertThrows(IllegalArgumentException.class, () -> Environment.switchedOn(Map.of(GemmTuner.VARIABLE, value), GemmTuner.VARIABLE));
        assertTrue(e.getMessage().contains("PRICER_GEMM_TUNE=" + value + ":"), e.getMessage());
    }

    @Test
    void aCountIsItsNumberOrTheDefaultWhenUnset() {
        String ahead = CudaBackend.NF4_AHEAD_VARIABLE;
        int most = CudaBackend.NF4_AHEAD_MOST;
        assertEquals(CudaBackend.NF4_AHEAD_DEFAULT, Environment.count(Map.of(), ahead, CudaBackend.NF4_AHEAD_DEFAULT, most));
        assertEquals(CudaBackend.NF4_AHEAD_DEFAULT, Environment.count(Map.of(ahead, ""), ahead, CudaBackend.NF4_AHEAD_DEFAULT, most));
        assertEquals(0, Environment.count(Map.of(ahead, "0"), ahead, 1, most));
        assertEquals(most, Environment.count(Map.of(ahead, String.valueOf(most)), ahead, 1, most));
    }

    @ParameterizedTest
    @ValueSource(strings = {"yes", "-1", "5", " 2", "99999999999", "1.5"})
    void aCountOutOfRangeOrNotANumberIsAnErrorNamingTheVariableAndValue(String value) {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Environment.count(Map.of(CudaBackend.NF4_AHEAD_VARIABLE, value), CudaBackend.NF4_AHEAD_VARIABLE, 1, 4));
        assertTrue(e.getMessage().contains("PRICER_NF4_AHEAD=" + value + ":"), e.getMessage());
    }

    @Test
    void theSmsLeftBesideAGemmAreAnEighthUnlessSetAndFewerThanTheGpuHas() {
        String beside = CudaBackend.NF4_BESIDE_VARIABLE;
        assertEquals(16, CudaBackend.nf4Beside(Map.of(), 132));
        assertEquals(0, CudaBackend.nf4Beside(Map.of(beside, "0"), 132));
        assertEquals(CudaBackend.NF4_BESIDE_MOST, CudaBackend.nf4Beside(Map.of(beside, String.valueOf(CudaBackend.NF4_BESIDE_MOST)), 132));
        assertEquals(7, CudaBackend.nf4Beside(Map.of(beside, "7"), 8));
        for (var gpu : Map.of("8", 8, "65", 132).entrySet()) {
            var e = assertThrows(IllegalArgumentException.class, () -> CudaBackend.nf4Beside(Map.of(beside, gpu.getKey()), gpu.getValue()));
            int most = Math.min(CudaBackend.NF4_BESIDE_MOST, gpu.getValue() - 1);
            assertTrue(e.getMessage().contains("PRICER_NF4_BESIDE=" + gpu.getKey() + ":") && e.getMessage().contains("0 to " + most), e.getMessage());
        }
    }
}
