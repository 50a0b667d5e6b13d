package dev.pricer.data;

/** An item that passed curation: its final text (at most the token limit) and the prompts made from it. */
public record CuratedItem(String title, String category, double price, String text, int tokens) {

    public String prompt() {
        return Prompts.training(text, price);
    }

    public String testPrompt() {
        return Prompts.test(text);
    }
}
