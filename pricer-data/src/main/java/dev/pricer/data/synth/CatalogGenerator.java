package dev.pricer.data.synth;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.MinimalPrettyPrinter;
import dev.pricer.data.Item;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;
import java.util.zip.GZIPOutputStream;

/**
 * A seeded synthetic product catalog in the shape of raw Amazon metadata, for machines without network.
 * A price is the product type's typical price times its brand's tier, times each attribute value's factor,
 * times a lognormal noise; the text states the type, the brand and the attributes in varied words, among
 * filler that says nothing about price. So a model can learn prices from text, and cannot learn them exactly.
 */
public final class CatalogGenerator {

    private static final String[] COLORS = {"Black", "White", "Gray", "Silver", "Blue", "Red", "Green", "Navy", "Charcoal", "Beige"};
    private static final String[] MONTHS = {"January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December"};
    private static final String[] OPENERS = {
            "Meet the %s %s, built for %s.", "The %s %s is made for %s.", "Upgrade to the %s %s, a favorite for %s.",
            "Designed with %3$s in mind, the %1$s %2$s keeps things simple.", "For %3$s, the %1$s %2$s is a dependable pick."};
    private static final String[] ATTRIBUTE_SENTENCES = {
            "It comes with %s (%s).", "This model offers %2$s for its %1$s.", "Choose it for the %2$s %1$s.",
            "%1$s: %2$s.", "Its %s is %s."};
    private static final String[] FILLER = {
            "Setup takes only a few minutes and needs no special tools.",
            "Every unit is inspected before it leaves the factory.",
            "The finish resists scratches, fingerprints and everyday wear.",
            "Customer support is available by email seven days a week.",
            "The packaging is made from recycled cardboard and is easy to recycle.",
            "A compact footprint saves space when it is not in use.",
            "Clear instructions are included in the box.",
            "It makes a thoughtful gift for friends and family.",
            "Clean it with a soft dry cloth; do not use harsh chemicals.",
            "The design was refined over several rounds of customer feedback.",
            "Rounded edges make it comfortable to handle.",
            "It looks at home in modern and classic spaces alike.",
            "All materials meet current safety standards.",
            "Please check the dimensions before ordering to make sure it fits."};
    private static final String[] FEATURE_TEMPLATES = {
            "%s: %s for reliable everyday performance", "Featuring %2$s %1$s", "%s - %s",
            "Built with %2$s (%1$s)", "%s rated at %s"};

    private final long seed;

    public CatalogGenerator(long seed) {
        this.seed = seed;
    }

    /** The first {@code count} items of this seed's catalog. */
    public List<Item> items(int count) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Item> items = new ArrayList<>(count);
        for (int i = 0; i < count; i++) items.add(item(random));
        return items;
    }

    /**
     * Writes {@code count} items as raw-Amazon-style JSON Lines ({@code .gz} compresses), atomically: the file
     * appears only once complete. {@code progress} hears the number written so far.
     */
    public void write(Path file, int count, LongConsumer progress) {
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        SplittableRandom random = new SplittableRandom(seed);
        JsonFactory json = new JsonFactory();
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
            try (OutputStream raw = Files.newOutputStream(partial);
                 OutputStream out = file.getFileName().toString().endsWith(".gz") ? new GZIPOutputStream(raw, 1 << 16) : raw;
                 JsonGenerator gen = json.createGenerator(out, JsonEncoding.UTF8)) {
                gen.setPrettyPrinter(new MinimalPrettyPrinter("\n"));
                for (int i = 0; i < count; i++) {
                    writeItem(gen, item(random));
                    if ((i + 1) % 10_000 == 0) progress.accept(i + 1);
                }
            }
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            progress.accept(count);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // the original error says more
            }
            throw new UncheckedIOException("cannot write catalog " + file, e);
        }
    }

    private static void writeItem(JsonGenerator gen, Item item) throws IOException {
        gen.writeStartObject();
        gen.writeStringField("main_category", item.category());
        gen.writeStringField("title", item.title());
        gen.writeArrayFieldStart("features");
        for (String f : item.features()) gen.writeString(f);
        gen.writeEndArray();
        gen.writeArrayFieldStart("description");
        for (String d : item.description()) gen.writeString(d);
        gen.writeEndArray();
        gen.writeNumberField("price", item.price());
        gen.writeObjectFieldStart("details");
        for (var e : item.details().entrySet()) gen.writeStringField(e.getKey(), e.getValue());
        gen.writeEndObject();
        gen.writeEndObject();
    }

    private Item item(SplittableRandom r) {
        Catalog.Category category = pickCategory(r);
        Catalog.ProductType type = pick(r, category.types());
        Catalog.Brand brand = pick(r, category.brands());
        List<Catalog.Attribute> attributes = type.attributes();
        List<Catalog.Value> chosen = new ArrayList<>();
        double price = type.typical() * brand.tier();
        for (Catalog.Attribute a : attributes) {
            Catalog.Value v = pick(r, a.values());
            chosen.add(v);
            price *= v.factor();
        }
        int warranty = 1 + r.nextInt(3);
        price *= 1 + 0.05 * (warranty - 1);
        price *= Math.exp(0.15 * r.nextGaussian());
        price = Math.min(999, Math.max(1, price));
        price = storePrice(r, price);

        String color = COLORS[r.nextInt(COLORS.length)];
        String use = pick(r, category.uses());
        String model = modelNumber(r, brand.name());

        StringBuilder title = new StringBuilder(brand.name()).append(' ').append(type.name());
        for (int i = 0; i < chosen.size(); i++) {
            title.append(i == 0 ? ", " : " ").append(i == 0 || r.nextBoolean() ? chosen.get(i).text() : "- " + chosen.get(i).text());
        }
        if (r.nextBoolean()) title.append(", ").append(color);
        if (r.nextInt(3) == 0) title.append(' ').append(model);

        List<String> description = new ArrayList<>();
        description.add(OPENERS[r.nextInt(OPENERS.length)].formatted(brand.name(), type.name().toLowerCase(), use));
        for (int i = 0; i < chosen.size(); i++) {
            description.add(ATTRIBUTE_SENTENCES[r.nextInt(ATTRIBUTE_SENTENCES.length)]
                    .formatted(attributes.get(i).name().toLowerCase(), chosen.get(i).text()));
        }
        description.add(fillers(r, 3));
        description.add("Backed by a " + warranty + "-year " + brand.name() + " warranty.");

        List<String> features = new ArrayList<>();
        for (int i = 0; i < chosen.size(); i++) {
            features.add(FEATURE_TEMPLATES[r.nextInt(FEATURE_TEMPLATES.length)]
                    .formatted(attributes.get(i).name().toUpperCase(), chosen.get(i).text()));
        }
        features.add("IDEAL FOR " + use.toUpperCase() + ": " + fillers(r, 1));
        features.add("WHAT YOU GET: " + type.name() + ", user manual, " + warranty + "-year warranty card");
        features.add(fillers(r, 2));

        Map<String, String> details = new LinkedHashMap<>();
        details.put("Brand", brand.name());
        details.put("Color", color);
        details.put("Item Weight", String.format("%.1f pounds", 0.2 + r.nextDouble() * 12));
        details.put("Item model number", model);
        details.put("Manufacturer", brand.name());
        details.put("Date First Available", MONTHS[r.nextInt(12)] + " " + (1 + r.nextInt(28)) + ", " + (2015 + r.nextInt(9)));
        details.put("Warranty", warranty + " year");
        return new Item(title.toString(), category.name(), description, features, details, price);
    }

    private static Catalog.Category pickCategory(SplittableRandom r) {
        double u = r.nextDouble() * Catalog.CATEGORIES.stream().mapToDouble(Catalog.Category::share).sum();
        for (Catalog.Category c : Catalog.CATEGORIES) {
            u -= c.share();
            if (u < 0) return c;
        }
        return Catalog.CATEGORIES.getLast();
    }

    /** Shop prices end in .99 mostly, sometimes .95, .49 or .00. */
    private static double storePrice(SplittableRandom r, double price) {
        double whole = Math.floor(price);
        double cents = switch (r.nextInt(10)) {
            case 0, 1 -> 0.95;
            case 2 -> 0.49;
            case 3 -> 0.0;
            default -> 0.99;
        };
        double p = whole + cents;
        return p < 1 ? 1.0 : Math.min(p, 999.0);
    }

    private static String fillers(SplittableRandom r, int n) {
        List<String> out = new ArrayList<>();
        while (out.size() < n) {
            String f = FILLER[r.nextInt(FILLER.length)];
            if (!out.contains(f)) out.add(f);
        }
        return String.join(" ", out);
    }

    private static String modelNumber(SplittableRandom r, String brand) {
        String letters = brand.replaceAll("[^A-Z]", "");
        if (letters.length() < 2) letters = brand.substring(0, 2).toUpperCase();
        return letters + "-" + (1000 + r.nextInt(9000)) + (char) ('A' + r.nextInt(26));
    }

    private static <T> T pick(SplittableRandom r, List<T> list) {
        return list.get(r.nextInt(list.size()));
    }
}
