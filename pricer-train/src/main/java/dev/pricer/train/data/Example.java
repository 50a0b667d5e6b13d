package dev.pricer.train.data;

/** One training example: the prompt (ending in the response template) and the completion the model learns. */
public record Example(String prompt, String completion) {

    public String text() {
        return prompt + completion;
    }
}
