package dev.pricer.eval.chart;

import dev.pricer.eval.tester.Report;
import dev.pricer.eval.tester.Scored;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChartsTest {

    @Test
    void scatterDrawsEachPointInItsColourAndTheDiagonal(@TempDir Path dir) throws Exception {
        Report r = Report.of("m", List.of(Scored.of("a", 100, 100, false), Scored.of("b", 500, 100, false), Scored.of("c", 1000, 700, false)));
        Path png = dir.resolve("charts/scatter.png");
        Charts.writePng(Charts.scatter(r), png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(Charts.WIDTH, img.getWidth());
        // Frame: 70 px margins, both axes 0..1000 over 660 px.
        assertEquals(r.items().get(1).colour().rgb().getRGB() & 0xffffff, img.getRGB(70 + 330, 800 - 70 - 66) & 0xffffff, "red dot at (500, 100)");
        assertEquals(r.items().get(0).colour().rgb().getRGB() & 0xffffff, img.getRGB(70 + 66, 800 - 70 - 66) & 0xffffff, "green dot at (100, 100)");
        int onDiagonal = img.getRGB(70 + 495, 800 - 70 - 495) & 0xffffff;
        assertEquals(0x1f77b4, onDiagonal, "y = x line at 750");
        try (var files = Files.list(png.getParent())) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void errorByStepMarksTheBestCheckpoint() {
        BufferedImage img = Charts.errorByStep("run", List.of(new Charts.StepError(10, 90), new Charts.StepError(20, 40),
                new Charts.StepError(30, 60)));
        assertTrue(img.getHeight() > 0);
        assertThrows(IllegalArgumentException.class, () -> Charts.errorByStep("run", List.of()));
    }
}
