package dev.pricer.cuda;

import dev.pricer.cuda.kernel.KernelSource;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The NF4 kernel choices without a GPU: their names, the switch's parsing, and that nf4.cu exports their entry points. */
class Nf4KernelTest {

    @Test
    void eightDistinctKernelsTheDefaultFirst() {
        List<Nf4Kernel> all = Nf4Kernel.all();
        assertEquals(8, all.size());
        assertEquals(8, all.stream().map(Nf4Kernel::name).collect(Collectors.toSet()).size());
        assertEquals(Nf4Kernel.DEFAULT, all.getFirst());
        assertEquals("threads", Nf4Kernel.DEFAULT.name());
    }

    @Test
    void theSwitchNamesAKernelOrKeepsTheDefault() {
        assertEquals(Nf4Kernel.DEFAULT, Nf4Kernel.named(null));
        assertEquals(Nf4Kernel.DEFAULT, Nf4Kernel.named(" "));
        assertEquals(new Nf4Kernel(true, true, true), Nf4Kernel.named("warps-scales-persistent"));
        assertEquals(new Nf4Kernel(false, true, false), Nf4Kernel.named(" Threads-Scales "));
        for (Nf4Kernel k : Nf4Kernel.all()) assertEquals(k, Nf4Kernel.named(k.name()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Nf4Kernel.named("warps-fast"));
        assertTrue(e.getMessage().contains("'warps-fast'") && e.getMessage().contains("threads-scales-persistent"), e.getMessage());
    }

    @Test
    void nf4CuExportsEveryKernelsEntryPoints() {
        String source = KernelSource.load("nf4.cu").text();
        assertTrue(source.contains("extern \"C\" __global__ void nf4_scales("), "nf4_scales");
        Set<String> entries = Nf4Kernel.all().stream().map(k -> k.entry(ElementType.BF16)).collect(Collectors.toSet());
        assertEquals(4, entries.size(), entries::toString);
        for (Nf4Kernel k : Nf4Kernel.all()) {
            for (ElementType t : ElementType.values()) {
                String entry = k.entry(t), template = entry.substring(0, entry.length() - t.suffix().length() - 1);
                assertTrue(source.contains("EXPORT2(" + template + ","), () -> k + ": no EXPORT2 of " + template + " for " + entry);
            }
        }
    }
}
