package dev.tailor.model.site;

import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses module names {@code model.layers.{i}.{path}} back into a block index and a site. */
final class ModuleNames {
    /** The prefix of every block's module name. */
    static final String BLOCKS = "model.layers.";

    /** A canonical block index (no sign, no leading zero, at most nine digits) and the rest. */
    private static final Pattern NAME = Pattern.compile(Pattern.quote(BLOCKS) + "(0|[1-9][0-9]{0,8})\\.(.+)");

    private ModuleNames() {
    }

    /**
     * The site among {@code sites} that {@code module} names, and its block.
     *
     * @throws IllegalArgumentException naming the module and the kind of site expected when it names none of them
     */
    static <S extends Site> Site.At<S> parse(String module, S[] sites, String kind) {
        Matcher m = NAME.matcher(module);
        if (m.matches()) {
            for (S site : sites) {
                if (site.path().equals(m.group(2))) {
                    return new Site.At<>(Integer.parseInt(m.group(1)), site);
                }
            }
        }
        throw new IllegalArgumentException("no " + kind + " site named " + module + " (expected " + BLOCKS + "N."
                + String.join(" or " + BLOCKS + "N.", Arrays.stream(sites).map(Site::path).toList()) + ")");
    }
}
