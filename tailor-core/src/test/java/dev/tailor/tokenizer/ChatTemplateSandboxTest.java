package dev.tailor.tokenizer;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile chat templates (the payloads of the hardening issue and their relatives) fail with a
 * {@link ChatTemplateException} naming the rule or limit they broke, in bounded time and without running out of
 * memory; the Python methods and Jinja that real templates use keep working.
 */
class ChatTemplateSandboxTest {

    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);
    /** Tight limits so the tests are quick: 300 ms and 1 Mi characters. */
    private static final ChatTemplate.Limits TIGHT = new ChatTemplate.Limits(Duration.ofMillis(300), 1 << 20);
    /**
     * The output budget with time to reach it: building a megabyte of text took more than 300 ms on a slow, shared
     * machine, so the time budget, not the one under test, refused it.
     */
    private static final ChatTemplate.Limits OUTPUT = new ChatTemplate.Limits(Duration.ofSeconds(5), 1 << 20);
    /** Far above TIGHT's time budget: a render that takes this long was not stopped. */
    private static final Duration HANG = Duration.ofSeconds(10);
    private static final List<ChatMessage> CHAT = List.of(new ChatMessage("user", "hi"));

    @Test
    void aStringDoubledFortyTimesExceedsTheOutputBudget() {
        assertRefused("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
                + "{% endfor %}{{ ns.s }}", OUTPUT, "exceeded its output budget of 1048576 characters");
        assertRefused("{% set s = 'ab' %}{% for i in range(40) %}{% set s = s + s %}{% endfor %}{{ s }}", OUTPUT,
                "exceeded its output budget of 1048576 characters");
    }

    @Test
    void threeNestedRangeLoopsStopAtTheTimeBudget() {
        long start = System.nanoTime();
        assertRefused("{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}"
                + "{% endfor %}{% endfor %}{% endfor %}", "exceeded its time budget of 300 ms");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < 3000, "stopped after " + millis + " ms, not soon after the 300 ms budget");
    }

    @Test
    void tojsonRefusesAHugeIndent() {
        assertRefused("{{ messages|tojson(indent=1000000000) }}",
                "calls tojson with indent=1000000000, wider than the 64 characters it may be (line 1)");
        assertEquals("[\n  {\n    \"role\": \"user\",\n    \"content\": \"hi\"\n  }\n]",
                render("{{ messages|tojson(indent=2) }}"));
    }

    @Test
    void javaStringMethodsAreNotCallable() {
        assertRefused("{{ 'a'.repeat(2000000000) }}",
                "calls the Java method String.repeat(), which templates may not (line 1)");
        assertRefused("{{ messages[0].content.length() }}", "calls the Java method String.length()");
        assertRefused("{{ 'a'.zfill(3) }}", "calls str.zfill(), which chat templates do not have (strings have ");
    }

    @Test
    void reflectionIsNotReachable() {
        assertRefused("{{ ''.getClass().forName('java.lang.Runtime') }}", "calls the Java method String.getClass()");
        assertRefused("{{ messages.getClass() }}", "calls the Java method SizeLimitingPyList.getClass()");
        assertRefused("{{ namespace().getClass().getClassLoader() }}", "calls the Java method Namespace.getClass()");
        assertRefused("{{ messages[0].put('role', 'x') }}", "calls the Java method SizeLimitingPyMap.put()");
        assertRefused("{% for m in messages %}{{ loop.doBreak() }}{% endfor %}", "calls the Java method ForLoop");
        assertEquals("[||]", render("[{{ ''.class }}|{{ messages.class }}|{{ ''.bytes }}]"),
                "bean properties are undefined, not Java getters");
    }

    @Test
    void includesAreRefused() {
        assertRefused("{% include 'META-INF/MANIFEST.MF' %}",
                "uses {% include %}: includes are not allowed, a chat template must be self-contained");
        assertRefused("{% import 'META-INF/MANIFEST.MF' as m %}", "uses {% import %}: includes are not allowed");
        assertRefused("{% from 'META-INF/MANIFEST.MF' import x %}", "uses {% from %}: includes are not allowed");
        assertRefused("{% extends 'META-INF/MANIFEST.MF' %}", "uses {% extends %}: includes are not allowed");
    }

    @Test
    void jinjavaExtrasAreSwitchedOff() {
        assertRefused("{{ messages|render }}", "uses the filter 'render', which chat templates may not (allowed: ");
        assertRefused("{{ 'x'|md5 }}", "uses the filter 'md5'");
        assertRefused("{{ 'x'|center(2000000000) }}", "uses the filter 'center'");
        assertRefused("{{ today() }}", "uses the function 'today', which chat templates may not");
        assertRefused("{% cycle 'a', 'b' %}", "uses the tag 'cycle'");
    }

    @Test
    void aRecursiveMacroStopsAtItsDepth() {
        assertRefused("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
                "calls a macro recursively deeper than 64 levels");
        assertRefused("{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
                "calls a macro recursively deeper than 64 levels");
        assertEquals("3210", render("{% macro f(n) %}{{ n }}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                + "{{ f(3) }}"), "recursion within the depth works as in jinja2");
    }

    @Test
    void aListRepeatingALongStringCannotBeBuiltOrPrinted() {
        String longString = "{% set ns = namespace(s='ab') %}{% for i in range(18) %}{% set ns.s = ns.s ~ ns.s %}"
                + "{% endfor %}{% set s = ns.s %}";
        String thousand = String.join(",", java.util.Collections.nCopies(1000, "s"));
        for (String payload : List.of("{% set l = [" + thousand + "] %}", "{{ [" + thousand + "]|join }}",
                "{{ ''.join([" + thousand + "]) }}", "{{ [" + thousand + "]|tojson }}",
                "{{ ('x' + [" + thousand + "])|length }}", "{{ [" + thousand + "]|string|length }}",
                "{{ s|replace('a', s) }}", "{{ s.replace('a', s) }}", "{{ s.replace('', s) }}")) {
            assertRefused(longString + payload, OUTPUT, "exceeded its output budget of 1048576 characters");
        }
    }

    @Test
    void bracketsNestedHundredsDeepAreRefusedAtLoad() {
        String deep = "{{ " + "(".repeat(5000) + "1" + ")".repeat(5000) + " }}";
        ChatTemplateException e = assertTimeoutPreemptively(HANG,
                () -> assertThrows(ChatTemplateException.class, () -> ChatTemplate.of("deep", deep, Map.of(), CLOCK)));
        assertEquals("chat template of deep nests brackets more than 100 deep in one expression", e.getMessage());
    }

    @Test
    void pythonMethodsAndJinjaThatRealTemplatesUseStillWork() {
        assertEquals("ab|True|['a', 'b']|Hello World|X|y|a-b|2|bb|b=1;a=2;|dflt|1|True,False|hi",
                render("{{ ' ab '.strip() }}|{{ 'abc'.startswith('a') }}|{{ 'a b'.split() }}|"
                        + "{{ 'hello world'.title() }}|{{ 'x'.upper() }}|{{ 'Y'.lower() }}|{{ '-'.join(['a', 'b']) }}|"
                        + "{{ 'abab'.count('a') }}|{{ 'aa'.replace('a', 'b') }}|"
                        + "{% for k, v in {'b': 1, 'a': 2}.items() %}{{ k }}={{ v }};{% endfor %}|"
                        + "{{ {'k': 1}.get('z', 'dflt') }}|{{ [3, 1].index(1) }}|"
                        + "{% for m in ['x', 'y'] %}{{ loop.first }}{{ ',' if not loop.last }}{% endfor %}|"
                        + "{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|join }}"));
    }

    @Test
    void limitsComeFromTheDefaultsOrSystemProperties() {
        assertEquals(new ChatTemplate.Limits(Duration.ofSeconds(5), 8L << 20), ChatTemplate.Limits.DEFAULT);
        assertEquals(ChatTemplate.Limits.DEFAULT, ChatTemplate.of("t", "", Map.of(), CLOCK).limits());
        String saved = System.getProperty(ChatTemplate.Limits.TIME_BUDGET_PROPERTY);
        try {
            System.setProperty(ChatTemplate.Limits.TIME_BUDGET_PROPERTY, "250");
            assertEquals(Duration.ofMillis(250), ChatTemplate.Limits.fromSystemProperties().timeBudget());
            System.setProperty(ChatTemplate.Limits.TIME_BUDGET_PROPERTY, "2s");
            ChatTemplateException e = assertThrows(ChatTemplateException.class,
                    ChatTemplate.Limits::fromSystemProperties);
            assertEquals("-Dtailor.template.time-budget-ms must be a positive whole number, got '2s'", e.getMessage());
        } finally {
            if (saved == null) {
                System.clearProperty(ChatTemplate.Limits.TIME_BUDGET_PROPERTY);
            } else {
                System.setProperty(ChatTemplate.Limits.TIME_BUDGET_PROPERTY, saved);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new ChatTemplate.Limits(Duration.ZERO, 1));
    }

    private static String render(String template) {
        return render(template, TIGHT);
    }

    private static String render(String template, ChatTemplate.Limits limits) {
        return ChatTemplate.of("test", template, Map.of(), CLOCK).withLimits(limits).render(CHAT, false, Map.of());
    }

    /** Renders {@code template} within {@link #TIGHT}, expecting a failure whose message contains {@code expected}. */
    private static void assertRefused(String template, String expected) {
        assertRefused(template, TIGHT, expected);
    }

    /** Renders {@code template} within {@code limits}, expecting a failure whose message contains {@code expected}. */
    private static void assertRefused(String template, ChatTemplate.Limits limits, String expected) {
        ChatTemplateException e = assertTimeoutPreemptively(HANG,
                () -> assertThrows(ChatTemplateException.class, () -> render(template, limits)), template);
        assertTrue(e.getMessage().startsWith("chat template of test "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected \"" + expected + "\" in: " + e.getMessage());
    }
}
