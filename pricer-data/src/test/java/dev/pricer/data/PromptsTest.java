package dev.pricer.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class PromptsTest {

    @Test
    void trainingPromptIsTheCoursesTextExactly() {
        assertEquals("How much does this cost to the nearest dollar?\n\nRed kettle\n1.7 litres\n\nPrice is $25.00",
                Prompts.training("Red kettle\n1.7 litres", 24.99));
    }

    @Test
    void testPromptStopsAfterTheDollarSign() {
        assertEquals("How much does this cost to the nearest dollar?\n\nRed kettle\n\nPrice is $", Prompts.test("Red kettle"));
        CuratedItem item = new CuratedItem("t", "c", 10.2, "Red kettle", 3);
        assertEquals(item.prompt().substring(0, item.prompt().length() - "10.00".length()), item.testPrompt());
    }

    @Test
    void pricesRoundHalfToEvenAsPythonDoes() {
        assertEquals(2, Prompts.dollars(2.5));
        assertEquals(4, Prompts.dollars(3.5));
        assertEquals(0, Prompts.dollars(0.5));
        assertEquals(999, Prompts.dollars(999.49));
        assertEquals("How much does this cost to the nearest dollar?\n\nx\n\nPrice is $2.00", Prompts.training("x", 2.5));
    }

    @Test
    void textComesBackOutOfEitherPrompt() {
        assertEquals("a\n\nb", Prompts.textOf(Prompts.training("a\n\nb", 3)));
        assertEquals("a", Prompts.textOf(Prompts.test("a")));
        assertNull(Prompts.textOf("just some text"));
    }
}
