package dev.tailor.architecture;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The floor plan of docs/ARCHITECTURE.md, checked on the compiled main classes of every module: no package
 * depends on another in a cycle (a parent package and its sub-packages included), no package depends on one on a
 * higher floor, and every package stands on a floor.
 */
class FloorPlanTest {
    /** From the ground up; a package may depend on its own floor and the ones below. */
    private static final List<List<String>> FLOORS = List.of(
            List.of("dev.tailor.tensor"),
            List.of("dev.tailor.io", "dev.tailor.io.gguf"),
            List.of("dev.tailor.tokenizer"),
            List.of("dev.tailor.model", "dev.tailor.model.site", "dev.tailor.hub"),
            List.of("dev.tailor.adapt", "dev.tailor.generate"),
            List.of("dev.tailor.adapt.*"),
            List.of("dev.tailor.train", "dev.tailor.train.*", "dev.tailor.cost", "dev.tailor.compare"),
            List.of("dev.tailor.bench", "dev.tailor.bench.*", "dev.tailor.demo"),
            List.of("dev.tailor.serve", "dev.tailor.serve.jobs"),
            List.of("dev.tailor.cli"));

    private static JavaClasses classes;

    @BeforeAll
    static void importMainClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages("dev.tailor");
    }

    @Test
    void thePackagesFormNoCycle() {
        Map<String, Set<String>> imports = new TreeMap<>();
        for (JavaClass c : classes) {
            Set<String> to = imports.computeIfAbsent(c.getPackageName(), p -> new TreeSet<>());
            c.getDirectDependenciesFromSelf().forEach(d -> {
                String target = d.getTargetClass().getPackageName();
                if (target.startsWith("dev.tailor") && !target.equals(c.getPackageName())) {
                    to.add(target);
                }
            });
        }
        List<List<String>> cycles = new ArrayList<>();
        for (String start : imports.keySet()) {
            List<String> path = cycleThrough(start, imports);
            if (path != null && path.getFirst().equals(start)
                    && cycles.stream().noneMatch(cy -> new TreeSet<>(cy).equals(new TreeSet<>(path)))) {
                cycles.add(path);
            }
        }
        assertEquals(List.of(), cycles, "packages that import each other, directly or through others");
    }

    /** A shortest path of imports from {@code start} back to itself, or null (breadth first). */
    private static List<String> cycleThrough(String start, Map<String, Set<String>> imports) {
        Map<String, String> from = new HashMap<>();
        ArrayDeque<String> queue = new ArrayDeque<>(imports.getOrDefault(start, Set.of()));
        imports.getOrDefault(start, Set.of()).forEach(n -> from.put(n, start));
        while (!queue.isEmpty()) {
            String at = queue.poll();
            if (at.equals(start)) {
                List<String> path = new ArrayList<>();
                String step = from.get(start);
                path.add(start);
                while (!step.equals(start)) {
                    path.addFirst(step);
                    step = from.get(step);
                }
                path.addFirst(start);
                return path;
            }
            for (String next : imports.getOrDefault(at, Set.of())) {
                if (from.putIfAbsent(next, at) == null) {
                    queue.add(next);
                }
            }
        }
        return null;
    }

    @Test
    void noPackageDependsOnAHigherFloor() {
        for (int floor = 0; floor < FLOORS.size() - 1; floor++) {
            List<String> above = new ArrayList<>();
            FLOORS.subList(floor + 1, FLOORS.size()).forEach(f -> f.forEach(p -> above.add(pattern(p))));
            ArchRule rule = noClasses().that().resideInAnyPackage(FLOORS.get(floor).stream()
                            .map(FloorPlanTest::pattern).toArray(String[]::new))
                    .should().dependOnClassesThat().resideInAnyPackage(above.toArray(String[]::new))
                    .because("floor " + floor + " " + FLOORS.get(floor) + " stands below " + above);
            rule.check(classes);
        }
    }

    @Test
    void everyPackageStandsOnOneFloor() {
        Set<String> unplaced = new TreeSet<>();
        for (JavaClass c : classes) {
            long floors = FLOORS.stream().filter(f -> f.stream().anyMatch(p -> on(c.getPackageName(), p))).count();
            if (floors != 1) {
                unplaced.add(c.getPackageName() + " (on " + floors + " floors)");
            }
        }
        assertFalse(classes.isEmpty(), "the main classes were found");
        assertEquals(Set.of(), unplaced, "add each package to one floor in FLOORS and docs/ARCHITECTURE.md");
    }

    /** ArchUnit's package pattern for a floor entry: {@code a.b} exactly, {@code a.b.*} any package below it. */
    private static String pattern(String entry) {
        return entry.endsWith(".*") ? entry + ".." : entry;
    }

    private static boolean on(String pkg, String entry) {
        return entry.endsWith(".*") ? pkg.startsWith(entry.substring(0, entry.length() - 1)) : pkg.equals(entry);
    }
}
