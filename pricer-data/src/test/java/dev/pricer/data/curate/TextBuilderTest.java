package dev.pricer.data.curate;

import dev.pricer.data.Item;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TextBuilderTest {

    private static CurationConfig with(java.util.function.UnaryOperator<CurationConfig> change) {
        return change.apply(CurationConfig.course());
    }

    @Test
    void scrubCollapsesPunctuationAndDropsPartNumbers() {
        TextBuilder b = new TextBuilder(CurationConfig.course());
        assertEquals("Brand Acme, Model XR size 12in", b.scrub("{\"Brand\": \"Acme\",, \"Model\": [\"XR\"]}\n size 12in"));
        // 7+ characters with a digit go; shorter ones and digit-free long words stay.
        assertEquals("Fits 2020 Honda Accord models", b.scrub("Fits 2020 Honda Accord 15400-PLM-A02 models B0012345"));
    }

    @Test
    void partNumberStepCanBeTurnedOff() {
        TextBuilder b = new TextBuilder(new CurationConfig(0.5, 999.49, CurationConfig.TEXT_FIELDS, true,
                CurationConfig.COURSE_BOILERPLATE, 0, 300, 1120, false, 150, 160, true, 1200, 240, Map.of(), 5, 42, true, 10, 10));
        assertEquals("part 15400-PLM-A02", b.scrub("part 15400-PLM-A02"));
    }

    @Test
    void contentsJoinDescriptionFeaturesAndCleanedDetails() {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("Brand", "Acme");
        details.put("Batteries Included?", "No");
        details.put("Best Sellers Rank", "12");
        Item item = new Item("Kettle", "Appliances", List.of("Boils fast.", "Quiet."), List.of("1.7 L"), details, 20);
        TextBuilder b = new TextBuilder(CurationConfig.course());
        assertEquals("Boils fast.\nQuiet.\n1.7 L\n{\"Brand\" \"Acme\", , \" Rank\" \"12\"}\n", b.contents(item));
        assertEquals("Kettle\nBoils fast. Quiet. 1.7 L Brand Acme, Rank 12", b.text(item.title(), b.contents(item)));
    }

    @Test
    void boilerplateStaysWhenItsStepIsOff() {
        Item item = new Item("K", "", List.of(), List.of(), Map.of("Batteries Included?", "No"), 20);
        CurationConfig c = CurationConfig.course();
        TextBuilder off = new TextBuilder(new CurationConfig(c.minPrice(), c.maxPrice(), c.textFields(), false, c.boilerplate(),
                c.partNumberLength(), c.minChars(), c.ceilingChars(), false, 150, 160, true, 1200, 240, Map.of(), 5, 42, true, 1, 1));
        assertEquals("{\"Batteries Included?\": \"No\"}\n", off.contents(item));
        assertEquals("{}\n", new TextBuilder(c).contents(item));
    }

    @Test
    void textFieldsChooseTheParts() {
        Item item = new Item("Title", "", List.of("desc"), List.of("feat"), Map.of("k", "v"), 20);
        CurationConfig c = CurationConfig.course();
        TextBuilder onlyFeatures = new TextBuilder(new CurationConfig(c.minPrice(), c.maxPrice(), List.of("features"), true,
                c.boilerplate(), 7, 300, 1120, false, 150, 160, true, 1200, 240, Map.of(), 5, 42, true, 1, 1));
        assertEquals("feat\n", onlyFeatures.contents(item));
        assertEquals("feat", onlyFeatures.text(item.title(), onlyFeatures.contents(item)));
    }

    @Test
    void contentsAreCutAtTheCeilingInCharacters() {
        TextBuilder b = new TextBuilder(CurationConfig.course());
        String body = b.text("", "\uD83D\uDE00".repeat(2000));
        assertEquals(1120, body.codePointCount(0, body.length()));
    }
}
