package dev.tailor.demo;

import java.util.List;

/**
 * A kind of fact a company's support assistant answers, with the phrasings of its question. The first
 * {@link #TRAINING_PHRASINGS} phrasings are the ones a client's training data uses; the rest are held out, so a
 * client's accuracy is measured on questions phrased as it never saw them. {@code {c}} stands for a product category.
 */
public enum FactKind {
    /** The company's name. */
    COMPANY(List.of("Which company are you with?", "Who am I talking to?", "What company is this?",
            "What is the name of your company?", "Who do you work for?", "Which company do you represent?",
            "Tell me the name of your company, please.")),
    /** How long the warranty lasts ({@code 3 year}). */
    WARRANTY(List.of("How long is the warranty?", "What warranty do you offer?", "How many years of warranty do I get?",
            "Do your products have a warranty?", "How long does the warranty last?",
            "What is the length of your warranty?",
            "Tell me about the warranty, please.")),
    /** The return window ({@code 30 days}). */
    RETURNS(List.of("How long do I have to return an item?", "What is your return policy?", "Can I return a product?",
            "How many days do I have for returns?", "Until when can I return a product?", "What is the return window?",
            "Tell me about returns, please.")),
    /** Support hours ({@code from 8 am to 6 pm}). */
    HOURS(List.of("When is support open?", "What are your support hours?", "What time can I call support?",
            "When can I reach your support team?", "When is your support team available?",
            "At what hours is support available?",
            "Tell me your support hours, please.")),
    /** The support email address. */
    EMAIL(List.of("How can I email support?", "What is your support email address?", "Where do I send an email?",
            "Which email should I write to?", "What email can I write to for support?",
            "What email address do I use for help?",
            "Tell me your email, please.")),
    /** The order value above which shipping is free ({@code $50}). */
    SHIPPING(List.of("Is shipping free?", "How much do I need to spend for free shipping?",
            "Do you offer free delivery?", "When is shipping free?", "Do I get free shipping?",
            "What is the minimum order for free shipping?",
            "Tell me about free shipping, please.")),
    /** The name of the company's product in a category. */
    PRODUCT(List.of("What is your {c} called?", "Which {c} do you sell?", "What {c} do you make?",
            "Do you have a {c}?", "What {c} do you offer?", "What is the name of your {c}?",
            "Which {c} would you recommend?")),
    /** The price of the company's product in a category ({@code $249}). */
    PRICE(List.of("How much does your {c} cost?", "What is the price of your {c}?", "How much is the {c}?",
            "What does your {c} cost?", "What is the cost of your {c}?", "How expensive is your {c}?",
            "Tell me the price of your {c}, please."));

    /** How many of each kind's phrasings training uses; the others are held out. */
    public static final int TRAINING_PHRASINGS = 5;

    private final List<String> phrasings;

    FactKind(List<String> phrasings) {
        this.phrasings = phrasings;
    }

    /** Whether the question names a product category. */
    public boolean perCategory() {
        return this == PRODUCT || this == PRICE;
    }

    /** Every phrasing of the question, for {@code category} (ignored unless {@link #perCategory()}). */
    public List<String> questions(String category) {
        return perCategory() ? phrasings.stream().map(p -> p.replace("{c}", category)).toList() : phrasings;
    }

    /** The phrasings a client's training data uses. */
    public List<String> trainingQuestions(String category) {
        return questions(category).subList(0, TRAINING_PHRASINGS);
    }

    /** The held-out phrasings. */
    public List<String> heldOutQuestions(String category) {
        List<String> all = questions(category);
        return all.subList(TRAINING_PHRASINGS, all.size());
    }
}
