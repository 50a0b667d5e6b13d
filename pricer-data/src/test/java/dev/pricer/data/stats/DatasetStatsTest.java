package dev.pricer.data.stats;

import dev.pricer.data.TestData;
import dev.pricer.data.read.Source;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetStatsTest {

    @TempDir
    Path dir;

    private Source sample() throws IOException {
        Path file = dir.resolve("items.csv");
        Files.writeString(file, """
                text,price,category
                a,5,Toys
                bb,15,Toys
                ccc,40,Toys
                dddd,400,Tools
                e,nope,Tools
                """);
        return new Source(List.of(file), null, null, null);
    }

    @Test
    void countsHistogramsAndCategories() throws IOException {
        DatasetStats s = DatasetStats.of(sample(), null, n -> { });
        assertEquals(5, s.rows());
        assertEquals(4, s.items());
        assertEquals(1, s.skipped());
        assertEquals("record 5", s.firstSkipped().getFirst().where());
        assertEquals(115.0, s.meanPrice());
        assertArrayEquals(new long[]{1, 1, 1, 0, 0, 0, 1, 0, 0, 0}, s.prices().counts());
        assertEquals("0-10", s.prices().label(0));
        assertEquals("1000+", s.prices().label(9));
        assertEquals("characters", s.lengthUnit());
        DatasetStats.CategoryStats toys = s.categories().stream().filter(c -> c.name().equals("Toys")).findFirst().orElseThrow();
        assertEquals(3, toys.count());
        assertEquals(15.0, toys.medianPrice());
        assertEquals(20.0, toys.meanPrice());
        assertEquals(2.0, toys.meanLength());
    }

    @Test
    void lengthsInTokensWithATokenizer() throws IOException {
        try (var tok = TestData.llama()) {
            DatasetStats s = DatasetStats.of(sample(), tok, n -> { });
            assertEquals("tokens", s.lengthUnit());
            assertEquals(4, s.lengths().counts()[0]);
        }
    }

    @Test
    void chartsAsPngAndHtml() throws IOException {
        DatasetStats s = DatasetStats.of(sample(), null, n -> { });
        Path png = dir.resolve("stats.png");
        StatsChart.write(s, png, "items");
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(1200, image.getWidth());
        Path html = dir.resolve("stats.html");
        StatsChart.write(s, html, "items <csv>");
        String page = Files.readString(html);
        assertTrue(page.contains("<td>Toys</td><td>3</td><td>20.00</td><td>15.00</td>"), page);
        assertTrue(page.contains("items &lt;csv&gt;"));
        assertTrue(page.contains("data:image/png;base64,"));
        assertThrows(IllegalArgumentException.class, () -> StatsChart.write(s, dir.resolve("stats.svg"), "x"));
    }
}
