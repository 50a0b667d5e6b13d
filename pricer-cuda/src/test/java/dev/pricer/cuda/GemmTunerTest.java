package dev.pricer.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The tuning switches' parsing (no GPU needed). */
class GemmTunerTest {

    @Test
    void unsetEmptyOrZeroIsOff() {
        assertFalse(GemmTuner.switchedOn(Map.of(), GemmTuner.VARIABLE));
        assertFalse(GemmTuner.switchedOn(Map.of(GemmTuner.VARIABLE, ""), GemmTuner.VARIABLE));
        assertFalse(GemmTuner.switchedOn(Map.of(GemmTuner.VARIABLE, "0"), GemmTuner.VARIABLE));
    }

    @Test
    void oneIsOn() {
        assertTrue(GemmTuner.switchedOn(Map.of(GemmTuner.VARIABLE, "1"), GemmTuner.VARIABLE));
        assertTrue(GemmTuner.switchedOn(Map.of(GemmTuner.LOG_VARIABLE, "1"), GemmTuner.LOG_VARIABLE));
        assertFalse(GemmTuner.switchedOn(Map.of(GemmTuner.LOG_VARIABLE, "1"), GemmTuner.VARIABLE), "each switch reads its own variable");
    }

    @ParameterizedTest
    @ValueSource(strings = {"true", "yes", "2", " 1", "on"})
    void anythingElseIsAnErrorNamingTheVariableAndValue(String value) {
        var e = assertThrows(IllegalArgumentException.class, () -> GemmTuner.switchedOn(Map.of(GemmTuner.VARIABLE, value), GemmTuner.VARIABLE));
        assertTrue(e.getMessage().contains("PRICER_GEMM_TUNE=" + value + ":"), e.getMessage());
    }
}
