package dev.tailor.demo;

import java.io.PrintWriter;
import java.util.Map;

/** Prints the demo's accuracy table and the side-by-side answers. */
final class DemoTable {
    private DemoTable() {
    }

    /** Prints both on {@code out}. */
    static void print(DemoResult result, PrintWriter out) {
        accuracy(result, out);
        out.println();
        sideBySide(result, out);
        out.flush();
    }

    private static void accuracy(DemoResult result, PrintWriter out) {
        out.println("Accuracy on held-out questions (phrasings no client was trained on): the share of answers that "
                + "state the client's fact");
        StringBuilder header = new StringBuilder(String.format("  %-18s %-15s", "model", "method"));
        for (Company c : SupportCorpus.CLIENTS) {
            header.append(String.format(" %10s", c.id()));
        }
        header.append(String.format(" %8s %6s", "domain", "tone"));
        out.println(header);
        for (DemoResult.ModelScore s : result.scores()) {
            StringBuilder row = new StringBuilder(String.format("  %-18s %-15s", s.model(), s.method()));
            for (Company c : SupportCorpus.CLIENTS) {
                row.append(String.format(" %10s", percent(s.accuracy().get(c.id()))));
            }
            row.append(String.format(" %8s %6s", percent(s.domain()), Double.isNaN(s.tone()) ? "" : percent(s.tone())));
            out.println(row);
        }
        DemoResult.ModelScore updated = result.score(Demo.UPDATED);
        if (updated != null) {
            Company.Product p = SupportCorpus.UPDATED_CLIENT.product(SupportCorpus.KITCHEN.getFirst());
            out.printf("  %s is %s's second adapter, trained on updated facts (the %s now costs $%d): %s right on "
                    + "them%n", Demo.UPDATED, Demo.FIRST_CLIENT, p.name(), p.price(),
                    percent(updated.accuracy().get(Demo.UPDATED)));
        }
        out.println("  tone: the share of a client model's answers opened as the client speaks; domain: the "
                + "industry's know-how");
    }

    private static void sideBySide(DemoResult result, PrintWriter out) {
        out.println("The same questions, side by side (each client's model should state its own client's fact; "
                + "the base and the domain model know none):");
        for (DemoResult.SideBySide row : result.sideBySide()) {
            out.println("  Q: " + row.question());
            for (Map.Entry<String, String> a : row.answers().entrySet()) {
                String fact = row.facts().get(a.getKey());
                String mark = fact == null ? "" : FactScorer.correct(a.getValue(), fact) ? "  [right]" : "  [wrong]";
                out.printf("     %-10s %s%s%n", a.getKey(), a.getValue(), mark);
            }
        }
    }

    /** {@code 0.96} as {@code 96%}. */
    static String percent(double share) {
        return Math.round(share * 100) + "%";
    }
}
