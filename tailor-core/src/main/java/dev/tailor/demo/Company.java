package dev.tailor.demo;

import java.util.List;

/**
 * A fictional company its support assistant speaks for: its facts and its tone.
 *
 * @param id               a short name (a client's adapter is served under it)
 * @param name             the company's name
 * @param opener           how its assistant opens every answer (its tone: {@code Happy to help!})
 * @param warranty         the warranty's length ({@code 3 year})
 * @param returnDays       days to return an item
 * @param hours            support hours ({@code from 8 am to 6 pm})
 * @param email            the support email address
 * @param freeShippingOver the order value in dollars above which shipping is free
 * @param products         one product per category of its industry
 */
public record Company(String id, String name, String opener, String warranty, int returnDays, String hours,
                      String email, int freeShippingOver, List<Product> products) {

    /**
     * A product.
     *
     * @param category its category ({@code espresso machine})
     * @param name     its name
     * @param price    its price in dollars
     */
    public record Product(String category, String name, int price) {
    }

    /**
     * The answer to a question and the fact it states.
     *
     * @param text the answer, opened in the company's tone
     * @param fact the words that make it right ({@code 3 year}, {@code $249})
     */
    public record Answer(String text, String fact) {
    }

    /** Copies the product list. */
    public Company {
        products = List.copyOf(products);
    }

    /** The product in {@code category}. */
    public Product product(String category) {
        return products.stream().filter(p -> p.category().equals(category)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(name + " has no " + category));
    }

    /** This company with the product in {@code category} at another price (a new version of its facts). */
    public Company withPrice(String category, int price) {
        Product old = product(category);
        return new Company(id, name, opener, warranty, returnDays, hours, email, freeShippingOver, products.stream()
                .map(p -> p == old ? new Product(category, p.name(), price) : p).toList());
    }

    /** The categories of its products, in order. */
    public List<String> categories() {
        return products.stream().map(Product::category).toList();
    }

    /** Its assistant's answer about {@code kind} ({@code category} for a product's name or price, else ignored). */
    public Answer answer(FactKind kind, String category) {
        return switch (kind) {
            case COMPANY -> answer("You are talking to the " + name + " support team.", name);
            case WARRANTY -> answer("Every product comes with a " + warranty + " warranty.", warranty);
            case RETURNS -> answer("You can return any item within " + returnDays + " days.", returnDays + " days");
            case HOURS -> answer("Our support team is available " + hours + ".", hours);
            case EMAIL -> answer("You can email us at " + email + ".", email);
            case SHIPPING -> answer("Shipping is free on orders over $" + freeShippingOver + ".",
                    "$" + freeShippingOver);
            case PRODUCT -> {
                Product p = product(category);
                yield answer("Our " + category + " is the " + p.name() + ".", p.name());
            }
            case PRICE -> {
                Product p = product(category);
                yield answer("The " + p.name() + " costs $" + p.price() + ".", "$" + p.price());
            }
        };
    }

    private Answer answer(String sentence, String fact) {
        return new Answer(opener + " " + sentence, fact);
    }
}
