package dev.pricer.data.stats;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Base64;
import java.util.Locale;

/**
 * Draws a dataset's statistics as one PNG (three bar charts: prices, lengths, items per category), or as an HTML
 * page holding that picture and the per-category table. Java2D draws headless, so no browser or font is needed.
 */
public final class StatsChart {

    private static final int WIDTH = 1200, PANEL = 300;
    private static final Color BAR = new Color(0x3b, 0x6e, 0xc2), AXIS = new Color(0x44, 0x44, 0x44);

    private StatsChart() {
    }

    /** Writes a {@code .png} or {@code .html} chart, by the file's extension. */
    public static void write(DatasetStats stats, Path file, String title) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        byte[] bytes;
        if (name.endsWith(".png")) bytes = png(stats, title);
        else if (name.endsWith(".html") || name.endsWith(".htm")) bytes = html(stats, title).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        else throw new IllegalArgumentException("chart file " + file + ": expected a .png or .html name");
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        try {
            if (file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
            Files.write(partial, bytes);
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write chart " + file + ": " + e, e);
        }
    }

    static byte[] png(DatasetStats stats, String title) {
        System.setProperty("java.awt.headless", "true");
        BufferedImage image = new BufferedImage(WIDTH, PANEL * 3 + 60, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, image.getWidth(), image.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        g.drawString(title + " - " + stats.items() + " items, mean price $" + String.format(Locale.ROOT, "%.2f", stats.meanPrice()), 20, 32);
        int n = stats.prices().counts().length;
        String[] priceLabels = new String[n];
        for (int i = 0; i < n; i++) priceLabels[i] = "$" + stats.prices().label(i);
        bars(g, 60, "Items by price", priceLabels, stats.prices().counts());
        int m = stats.lengths().counts().length;
        String[] lengthLabels = new String[m];
        for (int i = 0; i < m; i++) lengthLabels[i] = stats.lengths().label(i);
        bars(g, 60 + PANEL, "Items by length (" + stats.lengthUnit() + ")", lengthLabels, stats.lengths().counts());
        String[] cats = stats.categories().stream().map(DatasetStats.CategoryStats::name).toArray(String[]::new);
        long[] counts = stats.categories().stream().mapToLong(DatasetStats.CategoryStats::count).toArray();
        bars(g, 60 + 2 * PANEL, "Items by category", cats, counts);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void bars(Graphics2D g, int top, String title, String[] labels, long[] counts) {
        int left = 70, bottom = top + PANEL - 60, height = PANEL - 100, width = WIDTH - left - 30;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, left, top + 24);
        long max = 1;
        for (long c : counts) max = Math.max(max, c);
        int slot = counts.length == 0 ? width : width / counts.length;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int i = 0; i < counts.length; i++) {
            int h = (int) Math.round((double) counts[i] / max * height);
            int x = left + i * slot + slot / 8;
            g.setColor(BAR);
            g.fillRect(x, bottom - h, slot * 3 / 4, h);
            g.setColor(AXIS);
            g.drawString(String.valueOf(counts[i]), x, bottom - h - 4);
            String label = labels[i].length() > 22 ? labels[i].substring(0, 21) + "." : labels[i];
            g.drawString(label, x, bottom + 16);
        }
        g.setStroke(new BasicStroke(1));
        g.drawLine(left, bottom, left + width, bottom);
    }

    static String html(DatasetStats stats, String title) {
        String image = Base64.getEncoder().encodeToString(png(stats, title));
        StringBuilder rows = new StringBuilder();
        for (DatasetStats.CategoryStats c : stats.categories()) {
            rows.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%.2f</td><td>%.2f</td><td>%.1f</td></tr>%n",
                    escape(c.name()), c.count(), c.meanPrice(), c.medianPrice(), c.meanLength()));
        }
        return """
                <!doctype html>
                <html><head><meta charset="utf-8"><title>%1$s</title>
                <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child{text-align:left}</style>
                </head><body>
                <h1>%1$s</h1>
                <p>%2$d records, %3$d items, %4$d skipped.</p>
                <img alt="histograms" src="data:image/png;base64,%5$s">
                <table><tr><th>category</th><th>items</th><th>mean price</th><th>median price</th><th>mean length (%6$s)</th></tr>
                %7$s</table>
                </body></html>
                """.formatted(escape(title), stats.rows(), stats.items(), stats.skipped(), image, stats.lengthUnit(), rows);
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
