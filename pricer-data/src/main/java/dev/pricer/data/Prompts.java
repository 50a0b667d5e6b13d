package dev.pricer.data;

/**
 * The course's prompts. Training: {@code QUESTION\n\n{text}\n\nPrice is ${dollars}.00}; test: the same text
 * cut after {@code Price is $}, so the model's next tokens are the price. Every whole number below 1000 is one
 * Llama 3 token, which is why the price is written without cents and rounded.
 */
public final class Prompts {

    public static final String QUESTION = "How much does this cost to the nearest dollar?";
    public static final String PREFIX = "Price is $";

    private Prompts() {
    }

    public static String training(String text, double price) {
        return test(text) + dollars(price) + ".00";
    }

    public static String test(String text) {
        return QUESTION + "\n\n" + text + "\n\n" + PREFIX;
    }

    /** The price rounded as Python's {@code round} does (half to even), which the course's prompts used. */
    public static long dollars(double price) {
        return (long) Math.rint(price);
    }

    /**
     * The text inside a prompt that follows this layout (training or test), or {@code null} when it does not, so
     * published prompt datasets can be read back into items.
     */
    public static String textOf(String prompt) {
        String head = QUESTION + "\n\n";
        if (!prompt.startsWith(head)) return null;
        int end = prompt.lastIndexOf("\n\n" + PREFIX);
        return end < head.length() ? null : prompt.substring(head.length(), end);
    }
}
