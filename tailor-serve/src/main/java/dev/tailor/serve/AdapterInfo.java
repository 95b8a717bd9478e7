package dev.tailor.serve;

import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * A registered adapter, as {@code GET /v1/adapters/{name}} answers it.
 *
 * @param name        its name
 * @param aliases     each alias ({@code prod}, {@code canary} …) and the version it points at
 * @param versions    its versions, oldest first
 * @param traffic     its traffic split (revision 0 and no versions when it never had one)
 * @param evaluations its versions' stored evaluations, oldest first
 */
public record AdapterInfo(String name, Map<String, Integer> aliases, List<AdapterVersion> versions,
                          TrafficSplit traffic, List<Evaluation> evaluations) {

    /** This adapter with each version's {@link AdapterVersion#loaded()} as {@code loaded} says of its number. */
    AdapterInfo withLoaded(IntPredicate loaded) {
        return new AdapterInfo(name, aliases, versions.stream().map(v -> v.withLoaded(loaded.test(v.version())))
                .toList(), traffic, evaluations);
    }

    /** This adapter under {@code name}: what a caller who calls it so is shown. */
    AdapterInfo named(String name) {
        return new AdapterInfo(name, aliases, versions, traffic, evaluations);
    }

    /** The version numbers, for messages: {@code 1, 2, 3}. */
    String numbers() {
        return String.join(", ", versions.stream().map(v -> String.valueOf(v.version())).toList());
    }

    /** Whether version {@code n} exists. */
    boolean has(int n) {
        return version(n) != null;
    }

    /** Version {@code n}, or null when there is none. */
    AdapterVersion version(int n) {
        for (AdapterVersion v : versions) {
            if (v.version() == n) {
                return v;
            }
        }
        return null;
    }

    /** The latest evaluation of version {@code n}, or null. */
    Evaluation latestEvaluation(int n) {
        Evaluation last = null;
        for (Evaluation e : evaluations) {
            if (e.version() == n) {
                last = e;
            }
        }
        return last;
    }

    /** The latest evaluation of version {@code n} on the same data as {@code like}, or null. */
    Evaluation latestEvaluation(int n, Evaluation like) {
        Evaluation last = null;
        for (Evaluation e : evaluations) {
            if (e.version() == n && e.sameData(like)) {
                last = e;
            }
        }
        return last;
    }

    /** The body of {@code GET /v1/adapters}. */
    public record AdapterList(String object, List<AdapterInfo> data) {
    }
}
