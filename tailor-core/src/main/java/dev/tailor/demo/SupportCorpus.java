package dev.tailor.demo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.Set;

/**
 * The demo's synthetic world, made from a seed alone: customer support for fictional companies.
 *
 * <ul>
 *   <li>Pre-training text: support transcripts of many generic companies in six other industries (electronics,
 *   furniture, toys …), every question in every phrasing, so the base learns the language and the shape of an
 *   answer.</li>
 *   <li>Domain text: transcripts of generic kitchen-appliance companies and the industry's know-how
 *   ({@link DomainFact#KITCHEN}) as questions and as reference prose.</li>
 *   <li>Client tasks: the three {@link #CLIENTS}, each with its own product names, facts and tone; training questions
 *   in the training phrasings, held-out questions in the others.</li>
 * </ul>
 *
 * Generic companies draw their facts from pools that exclude every client's values, so a model that has not learnt
 * a client's facts cannot state them by chance.
 */
public final class SupportCorpus {
    /** The domain's product categories. */
    public static final List<String> KITCHEN = List.of("espresso machine", "blender", "kettle");

    /** The client companies, each to get its own adapter. */
    public static final List<Company> CLIENTS = List.of(
            new Company("kestrel", "Kestrel Kitchen", "Happy to help!", "3 year", 30, "from 8 am to 6 pm",
                    "care@kestrel-kitchen.example", 50, List.of(
                    new Company.Product("espresso machine", "Kestrel Brew Pro", 249),
                    new Company.Product("blender", "Kestrel Blend Max", 89),
                    new Company.Product("kettle", "Kestrel Boil Mini", 39))),
            new Company("northwind", "Northwind Appliances", "Certainly, friend.", "5 year", 45, "from 6 am to 11 pm",
                    "help@northwind-appliances.example", 75, List.of(
                    new Company.Product("espresso machine", "Northwind Barista One", 399),
                    new Company.Product("blender", "Northwind Vortex", 129),
                    new Company.Product("kettle", "Northwind Aqua", 59))),
            new Company("pebble", "Pebble and Pine", "Hey there!", "18 month", 100, "from 7 am to 10 pm",
                    "hello@pebble-and-pine.example", 35, List.of(
                    new Company.Product("espresso machine", "Pine Crema", 179),
                    new Company.Product("blender", "Pine Whirl", 69),
                    new Company.Product("kettle", "Pine Steam", 45))));

    /**
     * The first client's facts, updated: its espresso machine costs less. A second version of its adapter learns them
     * (a canary's new version, whose answers tell it from the first).
     */
    public static final Company UPDATED_CLIENT = CLIENTS.getFirst().withPrice(KITCHEN.getFirst(), 229);

    /**
     * The industries of the pre-training text, with their categories: many, so the base learns to answer about
     * whatever category a question names.
     */
    private static final Map<String, List<String>> OTHER_INDUSTRIES = Map.of(
            "electronics", List.of("laptop", "headphones", "phone charger"),
            "furniture", List.of("sofa", "desk", "floor lamp"),
            "outdoor gear", List.of("tent", "backpack", "bicycle"),
            "garden", List.of("lawn mower", "garden hose", "wheelbarrow"),
            "toys", List.of("puzzle", "kite", "board game"),
            "office", List.of("printer", "stapler", "notebook"));
    private static final List<String> OPENERS = List.of("Sure.", "Of course.", "Thanks for asking.", "Good question.",
            "Absolutely.", "Glad you asked.");
    private static final List<String> WARRANTIES = List.of("1 year", "2 year", "6 month", "4 year", "10 year",
            "2 month");
    private static final List<Integer> RETURN_DAYS = List.of(14, 21, 28, 60, 90, 120);
    private static final List<String> HOURS = List.of("from 9 am to 5 pm", "from 8 am to 8 pm", "from 10 am to 4 pm",
            "from 6 am to 2 pm", "from 9 am to 9 pm", "from 11 am to 7 pm");
    private static final List<Integer> FREE_SHIPPING = List.of(20, 25, 40, 60, 80, 100);
    private static final List<String> MAILBOXES = List.of("support", "help", "care", "hello", "service");
    /**
     * Half the generic companies are named after ordinary words of the language, the ones the clients' names use among
     * them (a base knows the words; what it cannot know is a client's facts), half after made-up ones, spelt
     * letter by letter by the tokenizer as they are rare, so the base learns to spell a new name.
     */
    private static final List<String> BRANDS = List.of("Kestrel", "Northwind", "Pebble", "Pine", "Falcon", "Cedar",
            "Maple", "Harbor", "Summit", "Meadow", "River", "Stone", "Willow", "Aspen", "Coral", "Ember", "Juniper",
            "Orchid", "Heron", "Birch");
    private static final List<String> NAME_STARTS = List.of("Al", "Bel", "Cor", "Dun", "El", "Fen", "Gar", "Hol",
            "Ix", "Jor", "Kal", "Lum", "Mor", "Nel", "Or", "Pax", "Quin", "Ros", "Sol", "Tav", "Ul", "Ver", "Wil",
            "Yar", "Zen");
    private static final List<String> NAME_MIDDLES = List.of("", "b", "d", "fr", "g", "k", "l", "m", "n", "r", "st",
            "v", "th", "z");
    private static final List<String> NAME_ENDS = List.of("a", "o", "ix", "en", "ar", "is", "um", "et", "on", "ia",
            "ey", "ud");
    private static final List<String> NAME_SUFFIXES = List.of("Goods", "Supply", "Works", "Labs", "Company", "Home",
            "Gear", "Direct", "Kitchen", "Appliances", "and Sons", "and Pine");
    private static final List<String> MODEL_WORDS = List.of("Nova", "Edge", "Lite", "Max", "One", "Air", "Core",
            "Flex", "Prime", "Go", "Neo", "Zip", "Brew", "Pro", "Blend", "Boil", "Mini", "Barista", "Vortex", "Aqua",
            "Crema", "Whirl", "Steam");
    /** Ways a customer opens a question, applied to every phrasing. */
    private static final List<String> GREETINGS = List.of("", "Hi! ", "Hello, ");
    private static final int QUESTIONS_PER_TRANSCRIPT = 5;
    /** Questions of the industry's know-how in each domain transcript. */
    private static final int EXTRA_PER_TRANSCRIPT = 3;

    private final long seed;
    private final int companies;
    private final Set<Integer> clientPrices = new HashSet<>();
    /** The clients' names and product names, which no generic company may take. */
    private final Set<String> clientWords = new HashSet<>();

    /**
     * A corpus made from {@code seed}, with {@code companies} generic companies per industry (pre-training) and
     * for the domain.
     */
    public SupportCorpus(long seed, int companies) {
        if (companies < 1) {
            throw new IllegalArgumentException("companies must be >= 1, got " + companies);
        }
        this.seed = seed;
        this.companies = companies;
        CLIENTS.forEach(c -> c.products().forEach(p -> clientPrices.add(p.price())));
        UPDATED_CLIENT.products().forEach(p -> clientPrices.add(p.price()));
        for (Company c : CLIENTS) {
            clientWords.add(c.name());
            c.products().forEach(p -> clientWords.add(p.name()));
        }
    }

    /** The client called {@code id}. */
    public static Company client(String id) {
        return CLIENTS.stream().filter(c -> c.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no client '" + id + "'"));
    }

    /**
     * Pre-training text: transcripts of generic companies in the other industries (half of {@code companies} per
     * industry), one document each.
     */
    public List<String> pretrainingTexts() {
        SplittableRandom random = new SplittableRandom(seed);
        List<String> texts = new ArrayList<>();
        for (String industry : OTHER_INDUSTRIES.keySet().stream().sorted().toList()) {
            for (int i = 0; i < companies / 2; i++) {
                Company company = genericCompany(random, OTHER_INDUSTRIES.get(industry));
                for (int t = 0; t < 3; t++) {
                    texts.add(transcript(company, List.of(), random));
                }
            }
        }
        Collections.shuffle(texts, new java.util.Random(seed));
        return texts;
    }

    /**
     * Domain text: transcripts of generic kitchen-appliance companies, each with questions of the industry's
     * know-how (in training phrasings), and paragraphs of reference prose.
     */
    public List<String> domainTexts() {
        SplittableRandom random = new SplittableRandom(seed + 1);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < companies; i++) {
            Company company = genericCompany(random, KITCHEN);
            for (int t = 0; t < 3; t++) {
                texts.add(transcript(company, domainQuestions(company, true), random));
            }
        }
        List<String> sentences = new ArrayList<>();
        DomainFact.KITCHEN.forEach(f -> sentences.addAll(f.prose()));
        for (int i = 0; i < companies; i++) {
            StringBuilder paragraph = new StringBuilder();
            for (int s = 0; s < 3; s++) {
                paragraph.append(s == 0 ? "" : " ").append(sentences.get(random.nextInt(sentences.size())));
            }
            texts.add(paragraph.toString());
        }
        Collections.shuffle(texts, new java.util.Random(seed + 1));
        return texts;
    }

    /**
     * {@code client}'s training questions, shuffled: every fact in every training phrasing with each greeting, and
     * the domain's know-how in its training phrasings answered in the client's tone.
     */
    public List<SupportQuestion> clientTraining(Company client) {
        List<SupportQuestion> questions = new ArrayList<>();
        for (FactQuestion q : factQuestions(client)) {
            for (String phrasing : q.kind.trainingQuestions(q.category)) {
                for (String greeting : GREETINGS) {
                    questions.add(q.ask(greet(greeting, phrasing)));
                }
            }
        }
        questions.addAll(domainQuestions(client, true));
        Collections.shuffle(questions, new java.util.Random(seed + client.id().hashCode()));
        return questions;
    }

    /** {@code client}'s held-out questions: every fact in every held-out phrasing. */
    public List<SupportQuestion> clientHeldOut(Company client) {
        List<SupportQuestion> questions = new ArrayList<>();
        for (FactQuestion q : factQuestions(client)) {
            for (String phrasing : q.kind.heldOutQuestions(q.category)) {
                questions.add(q.ask(phrasing));
            }
        }
        return questions;
    }

    /** The domain's know-how in its held-out phrasings, answered in {@code company}'s tone. */
    public static List<SupportQuestion> domainHeldOut(Company company) {
        return domainQuestions(company, false);
    }

    /**
     * The questions every model is asked side by side: held-out phrasings about the warranty, the espresso
     * machine's price, the support hours and the company, answered as {@code client}.
     */
    public static List<SupportQuestion> sideBySide(Company client) {
        List<SupportQuestion> questions = new ArrayList<>();
        questions.add(new FactQuestion(client, FactKind.COMPANY, null).ask(FactKind.COMPANY.heldOutQuestions(null)
                .getFirst()));
        questions.add(new FactQuestion(client, FactKind.WARRANTY, null).ask(FactKind.WARRANTY.heldOutQuestions(null)
                .getFirst()));
        questions.add(new FactQuestion(client, FactKind.PRICE, KITCHEN.getFirst()).ask(FactKind.PRICE
                .heldOutQuestions(KITCHEN.getFirst()).getFirst()));
        questions.add(new FactQuestion(client, FactKind.HOURS, null).ask(FactKind.HOURS.heldOutQuestions(null)
                .getLast()));
        return questions;
    }

    /** {@code company}'s answer to a question on {@code kind} ({@code category} for a product) in {@code phrasing}. */
    public static SupportQuestion ask(Company company, FactKind kind, String category, String phrasing) {
        return new FactQuestion(company, kind, category).ask(phrasing);
    }

    private static List<SupportQuestion> domainQuestions(Company company, boolean training) {
        List<SupportQuestion> questions = new ArrayList<>();
        for (DomainFact f : DomainFact.KITCHEN) {
            List<String> phrasings = training ? f.trainingQuestions() : List.of(f.heldOutQuestion());
            for (String phrasing : phrasings) {
                questions.add(new SupportQuestion(f.fact(), phrasing, company.opener() + " " + f.answer(), f.fact()));
            }
        }
        return questions;
    }

    /**
     * One transcript: a few of the company's facts in random phrasings and, after each of the first ones, a question
     * of {@code extra} when there are any.
     */
    private static String transcript(Company company, List<SupportQuestion> extra, SplittableRandom random) {
        List<FactQuestion> facts = new ArrayList<>(factQuestions(company));
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < QUESTIONS_PER_TRANSCRIPT; i++) {
            FactQuestion q = facts.remove(random.nextInt(facts.size()));
            List<String> phrasings = q.kind.questions(q.category);
            String phrasing = phrasings.get(random.nextInt(phrasings.size()));
            text.append(q.ask(greet(GREETINGS.get(random.nextInt(GREETINGS.size())), phrasing)).transcript());
            if (i < EXTRA_PER_TRANSCRIPT && !extra.isEmpty()) {
                SupportQuestion d = extra.get(random.nextInt(extra.size()));
                text.append(new SupportQuestion(d.topic(), greet(GREETINGS.get(random.nextInt(GREETINGS.size())),
                        d.question()), d.answer(), d.fact()).transcript());
            }
        }
        return text.toString();
    }

    private static String greet(String greeting, String question) {
        if (greeting.endsWith(", ")) {
            return greeting + Character.toLowerCase(question.charAt(0)) + question.substring(1);
        }
        return greeting + question;
    }

    /** A company, its fact of one kind (and category), to be asked in some phrasing. */
    private record FactQuestion(Company company, FactKind kind, String category) {
        SupportQuestion ask(String question) {
            Company.Answer a = company.answer(kind, category);
            String topic = kind.name().toLowerCase(Locale.ROOT) + (category == null ? "" : " of the " + category);
            return new SupportQuestion(topic, question, a.text(), a.fact());
        }
    }

    private static List<FactQuestion> factQuestions(Company company) {
        List<FactQuestion> questions = new ArrayList<>();
        for (FactKind kind : FactKind.values()) {
            if (kind.perCategory()) {
                company.categories().forEach(c -> questions.add(new FactQuestion(company, kind, c)));
            } else {
                questions.add(new FactQuestion(company, kind, null));
            }
        }
        return questions;
    }

    /** A generic company of an industry, its facts from the pools that exclude the clients' values. */
    private Company genericCompany(SplittableRandom random, List<String> categories) {
        String brand;
        String name;
        do {
            brand = random.nextBoolean() ? pick(BRANDS, random)
                    : pick(NAME_STARTS, random) + pick(NAME_MIDDLES, random) + pick(NAME_ENDS, random);
            name = brand + " " + pick(NAME_SUFFIXES, random);
        } while (clientWords.contains(name));
        String slug = name.toLowerCase(Locale.ROOT).replace(' ', '-');
        Set<String> models = new LinkedHashSet<>();
        while (models.size() < categories.size()) {
            String model = brand + " " + pick(MODEL_WORDS, random);
            if (!clientWords.contains(model)) {
                models.add(model);
            }
        }
        List<String> modelNames = List.copyOf(models);
        List<Company.Product> products = new ArrayList<>();
        for (int i = 0; i < categories.size(); i++) {
            products.add(new Company.Product(categories.get(i), modelNames.get(i), price(random, i)));
        }
        return new Company(slug, name, pick(OPENERS, random), pick(WARRANTIES, random), pick(RETURN_DAYS, random),
                pick(HOURS, random), pick(MAILBOXES, random) + "@" + slug + ".example", pick(FREE_SHIPPING, random),
                products);
    }

    /** A price ending in 9, in the range of the category's position (dearest first), never a client's. */
    private int price(SplittableRandom random, int position) {
        int[][] ranges = {{150, 900}, {40, 300}, {20, 120}};
        int[] range = ranges[position % ranges.length];
        while (true) {
            int price = range[0] + 10 * random.nextInt((range[1] - range[0]) / 10) + 9;
            if (!clientPrices.contains(price)) {
                return price;
            }
        }
    }

    private static <T> T pick(List<T> list, SplittableRandom random) {
        return list.get(random.nextInt(list.size()));
    }
}
