package dev.tailor.demo;

/**
 * A customer's question and the answer the assistant should give.
 *
 * @param topic    what it asks about ({@code warranty}, {@code price of the kettle}, {@code descaling})
 * @param question the question
 * @param answer   the whole answer, in the company's tone
 * @param fact     the words an answer must state to be right
 */
public record SupportQuestion(String topic, String question, String answer, String fact) {

    /** The prompt a model answers: the chat template's rendering of one user turn, without the BOS. */
    public String prompt() {
        return prompt(question);
    }

    /** The prompt for {@code question}. */
    public static String prompt(String question) {
        return "Customer: " + question + "\nAssistant:";
    }

    /** What the assistant says after the prompt (a leading space, then the answer). */
    public String completion() {
        return " " + answer;
    }

    /** The exchange as reference text: the prompt, the completion and a newline. */
    public String transcript() {
        return prompt() + completion() + "\n";
    }
}
