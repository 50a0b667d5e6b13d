package dev.pricer.eval.chart;

import dev.pricer.eval.tester.Report;
import dev.pricer.eval.tester.Scored;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;

/** PNG charts drawn with Java2D: the Tester's truth-vs-estimate scatter and price error by checkpoint step. */
public final class Charts {

    public static final int WIDTH = 800, HEIGHT = 800;
    private static final int MARGIN = 70;
    private static final Color BEST = new Color(0xd0, 0x30, 0x30);

    /** A checkpoint's average error at its step. */
    public record StepError(long step, double averageError) {}

    private Charts() {
    }

    /** Truth on x, estimate on y, one dot per item in its colour, and the y = x line of perfect estimates. */
    public static BufferedImage scatter(Report report) {
        double max = 1;
        for (Scored s : report.items()) max = Math.max(max, Math.max(s.truth(), s.guess()));
        Frame f = new Frame(WIDTH, HEIGHT, 0, max, 0, max);
        Graphics2D g = f.begin(report.name() + String.format(Locale.ROOT, ": error $%,.2f  RMSLE %.2f  hits %.1f%%",
                report.averageError(), report.rmsle(), report.hits()), "truth ($)", "estimate ($)");
        g.setColor(new Color(0x1f, 0x77, 0xb4));
        g.setStroke(new BasicStroke(1.5f));
        g.draw(new Line2D.Double(f.x(0), f.y(0), f.x(max), f.y(max)));
        for (Scored s : report.items()) {
            g.setColor(s.colour().rgb());
            double guess = Math.max(0, s.guess());
            g.fill(new Ellipse2D.Double(f.x(s.truth()) - 3, f.y(guess) - 3, 6, 6));
        }
        g.dispose();
        return f.image;
    }

    /** Average price error at each checkpoint's step, the best one circled and labelled. */
    public static BufferedImage errorByStep(String title, List<StepError> points) {
        if (points.isEmpty()) throw new IllegalArgumentException("no checkpoints to chart");
        long minStep = points.stream().mapToLong(StepError::step).min().orElseThrow();
        long maxStep = points.stream().mapToLong(StepError::step).max().orElseThrow();
        double maxError = points.stream().mapToDouble(StepError::averageError).max().orElseThrow();
        StepError best = points.stream().min(java.util.Comparator.comparingDouble(StepError::averageError)).orElseThrow();
        Frame f = new Frame(WIDTH, HEIGHT / 2 + 100, minStep, Math.max(maxStep, minStep + 1), 0, Math.max(1, maxError * 1.1));
        Graphics2D g = f.begin(title, "step", "average error ($)");
        g.setColor(new Color(0x1f, 0x77, 0xb4));
        g.setStroke(new BasicStroke(2f));
        List<StepError> sorted = points.stream().sorted(java.util.Comparator.comparingLong(StepError::step)).toList();
        for (int i = 1; i < sorted.size(); i++) {
            g.draw(new Line2D.Double(f.x(sorted.get(i - 1).step()), f.y(sorted.get(i - 1).averageError()),
                    f.x(sorted.get(i).step()), f.y(sorted.get(i).averageError())));
        }
        for (StepError p : sorted) g.fill(new Ellipse2D.Double(f.x(p.step()) - 4, f.y(p.averageError()) - 4, 8, 8));
        g.setColor(BEST);
        g.setStroke(new BasicStroke(3f));
        g.draw(new Ellipse2D.Double(f.x(best.step()) - 10, f.y(best.averageError()) - 10, 20, 20));
        g.drawString(String.format(Locale.ROOT, "best: step %d, $%,.2f", best.step(), best.averageError()),
                (float) f.x(best.step()) + 12, (float) f.y(best.averageError()) - 12);
        g.dispose();
        return f.image;
    }

    /** Writes the image beside the target and moves it into place, so a reader never sees half a file. */
    public static void writePng(BufferedImage image, Path file) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".chart", ".png");
            try {
                if (!ImageIO.write(image, "png", tmp.toFile())) throw new IOException("no PNG writer");
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the chart " + file + ": " + e.getMessage(), e);
        }
    }

    /** A plot area with axes, ticks and labels, mapping data coordinates to pixels. */
    private static final class Frame {
        final BufferedImage image;
        final double x0, x1, y0, y1;

        Frame(int width, int height, double x0, double x1, double y0, double y1) {
            this.image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            this.x0 = x0;
            this.x1 = x1;
            this.y0 = y0;
            this.y1 = y1;
        }

        double x(double v) {
            return MARGIN + (v - x0) / (x1 - x0) * (image.getWidth() - 2 * MARGIN);
        }

        double y(double v) {
            return image.getHeight() - MARGIN - (v - y0) / (y1 - y0) * (image.getHeight() - 2 * MARGIN);
        }

        Graphics2D begin(String title, String xLabel, String yLabel) {
            Graphics2D g = image.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            g.setColor(Color.DARK_GRAY);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString(title, MARGIN, MARGIN / 2f);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            g.draw(new Line2D.Double(x(x0), y(y0), x(x1), y(y0)));
            g.draw(new Line2D.Double(x(x0), y(y0), x(x0), y(y1)));
            for (int i = 0; i <= 5; i++) {
                double xv = x0 + (x1 - x0) * i / 5, yv = y0 + (y1 - y0) * i / 5;
                g.drawString(String.format(Locale.ROOT, "%,.0f", xv), (float) x(xv) - 10, (float) y(y0) + 16);
                g.drawString(String.format(Locale.ROOT, "%,.0f", yv), 8, (float) y(yv) + 4);
            }
            g.drawString(xLabel, image.getWidth() / 2f, image.getHeight() - 20);
            g.drawString(yLabel, 8, MARGIN - 12);
            return g;
        }
    }
}
