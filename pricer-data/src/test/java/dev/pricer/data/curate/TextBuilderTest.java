package dev.pricer.data.curate;

import dev.pricer.data.Item;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /** The course's character class, as a regex: what TextBuilder.isNoise must agree with on every character. */
    private static final Pattern COURSE_NOISE = Pattern.compile("[:\\[\\]\"{}【】\\s]+", Pattern.UNICODE_CHARACTER_CLASS);

    @Test
    void noiseIsTheCoursesCharacterClassOnEveryCharacter() {
        int noise = 0;
        for (int i = 0; i <= Character.MAX_VALUE; i++) {
            char c = (char) i;
            boolean expected = COURSE_NOISE.matcher(String.valueOf(c)).matches();
            assertEquals(expected, TextBuilder.isNoise(c), () -> "U+%04X".formatted((int) c));
            if (expected) noise++;
        }
        assertEquals(8 + 25, noise, "8 punctuation characters and Unicode's 25 White_Space characters");
    }

    @Test
    void scrubMatchesTheCoursesRegexStepsOnRandomText() {
        String alphabet = " ,,:[]\"{}【】\t\n\u00A0\u2003\u001Cab7Z9-é\uD83D\uDE00";
        Random random = new Random(7);
        TextBuilder b = new TextBuilder(CurationConfig.course());
        for (int n = 0; n < 20_000; n++) {
            StringBuilder text = new StringBuilder();
            for (int i = random.nextInt(40); i > 0; i--) text.append(alphabet.charAt(random.nextInt(alphabet.length())));
            String t = text.toString();
            assertEquals(scrubByRegex(t, 7), b.scrub(t), () -> "scrubbing \"" + t + "\"");
        }
    }

    /** The course's steps written the plain way: regex, strip, replacements, then words split on spaces and filtered. */
    private static String scrubByRegex(String text, int partNumberLength) {
        String s = COURSE_NOISE.matcher(text).replaceAll(" ").strip();
        s = s.replace(" ,", ",").replace(",,,", ",").replace(",,", ",");
        StringBuilder out = new StringBuilder();
        for (String word : s.split(" ", -1)) {
            if (word.codePointCount(0, word.length()) >= partNumberLength && word.codePoints().anyMatch(Character::isDigit)) continue;
            if (!out.isEmpty()) out.append(' ');
            out.append(word);
        }
        return out.toString();
    }

    @Test
    void aSurrogatePairCountsAsOneCharacterOfAPartNumber() {
        TextBuilder b = new TextBuilder(CurationConfig.course());
        assertEquals("x", b.scrub("x \uD83D\uDE00\uD83D\uDE0012345"), "7 code points with digits go");
        assertTrue(b.scrub("\uD83D\uDE00\uD83D\uDE001234 y").startsWith("\uD83D\uDE00"), "6 code points (8 chars) stay");
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
