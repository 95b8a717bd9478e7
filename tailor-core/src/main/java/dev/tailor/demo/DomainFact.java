package dev.tailor.demo;

import java.util.List;

/**
 * A piece of the industry's know-how that every company of it gives the same answer to (the domain a domain
 * fine-tune teaches), with the phrasings of its question: all but the last are trained on, the last is held out.
 *
 * @param questions the phrasings, the held-out one last
 * @param answer    the answer
 * @param fact      the words that make an answer right
 * @param prose     sentences of reference text that state it
 */
public record DomainFact(List<String> questions, String answer, String fact, List<String> prose) {

    /** The kitchen-appliance know-how of the demo's domain. */
    public static final List<DomainFact> KITCHEN = List.of(
            new DomainFact(List.of("How often should I descale my kettle?", "How often do I need to descale?",
                    "When should I descale my espresso machine?", "How often is descaling needed?",
                    "When is it time to descale?", "How frequently should descaling be done?"),
                    "Descale it every 3 months to remove limescale.", "every 3 months",
                    List.of("Hard water leaves limescale, so descale a kettle or an espresso machine every 3 months.",
                            "Descaling every 3 months keeps the heating element free of limescale.")),
            new DomainFact(List.of("What water temperature is best for coffee?", "How hot should the water be for "
                    + "brewing?", "At what temperature should I brew coffee?", "What is the best brewing temperature?",
                    "How hot should brewing water be?", "What is the ideal temperature for brewing coffee?"),
                    "Brew with water at 93 degrees.", "93 degrees",
                    List.of("Coffee brews best with water at 93 degrees, just below boiling.",
                            "At 93 degrees the water pulls the sweetness out of the coffee without bitterness.")),
            new DomainFact(List.of("How much coffee goes into a double shot?", "How many grams of coffee for a double "
                    + "espresso?", "What dose should I use for a double shot?", "How much ground coffee do I need for "
                    + "espresso?", "How many grams go into a double shot?", "How much ground coffee does a double "
                    + "shot need?"),
                    "A double shot takes 18 grams of coffee.", "18 grams",
                    List.of("A double shot of espresso takes 18 grams of ground coffee.",
                            "Baristas weigh 18 grams of coffee for every double shot.")),
            new DomainFact(List.of("How much pressure does espresso need?", "What pressure should my espresso machine "
                    + "reach?", "How many bars does a good espresso need?", "What is the best pressure for espresso?",
                    "How many bars of pressure are right?", "What is the right pressure for espresso?"),
                    "A good espresso needs 9 bars of pressure.", "9 bars",
                    List.of("An espresso machine pushes water through the coffee at 9 bars of pressure.",
                            "Without 9 bars of pressure the espresso comes out thin and sour.")),
            new DomainFact(List.of("How long can my blender run?", "How long may the blender run without a break?",
                    "Can I run the blender for a long time?", "How long should the blender run at once?",
                    "What is the longest time to run a blender?", "What is the longest the blender should run at "
                    + "once?"),
                    "Run the blender for at most 2 minutes, then let the motor rest.", "2 minutes",
                    List.of("A blender motor should run for at most 2 minutes before it rests.",
                            "Blending for more than 2 minutes at a time overheats the motor.")),
            new DomainFact(List.of("What grind should I use for espresso?", "How fine should espresso coffee be "
                    + "ground?", "Which grind size is right for espresso?", "What grind size is best?",
                    "How fine should the grind be?", "What grind size works for espresso?"),
                    "Use a fine grind, like table salt.", "fine grind",
                    List.of("Espresso needs a fine grind, like table salt, so the water meets resistance.",
                            "A fine grind slows the water down and gives the espresso its crema.")));

    /** Copies the lists. */
    public DomainFact {
        questions = List.copyOf(questions);
        prose = List.copyOf(prose);
    }

    /** The phrasings trained on. */
    public List<String> trainingQuestions() {
        return questions.subList(0, questions.size() - 1);
    }

    /** The held-out phrasing. */
    public String heldOutQuestion() {
        return questions.getLast();
    }
}
