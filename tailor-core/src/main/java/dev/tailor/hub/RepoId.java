package dev.tailor.hub;

import java.util.regex.Pattern;

/**
 * A Hugging Face model repository id, {@code org/name}, validated as huggingface_hub's {@code validate_repo_id}
 * does (letters, digits, {@code - _ .}; no {@code --} or {@code ..}), so it is also safe as a cache folder name.
 *
 * @param org  the user or organisation
 * @param name the model's name
 */
public record RepoId(String org, String name) {
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_.\\-]{1,96}");

    public RepoId {
        for (String part : new String[]{org, name}) {
            if (!PART.matcher(part).matches() || part.contains("--") || part.contains("..")
                    || part.startsWith("-") || part.startsWith(".") || part.endsWith("-") || part.endsWith(".")) {
                throw new IllegalArgumentException("\"" + org + "/" + name + "\" is not a valid repo id (expected "
                        + "ORG/NAME of letters, digits, '-', '_' and '.', without '--' or '..')");
            }
        }
    }

    /** True if {@code text} has the shape {@code org/name} of a valid repo id. */
    public static boolean looksLikeRepoId(String text) {
        int slash = text.indexOf('/');
        if (slash < 0 || slash != text.lastIndexOf('/')) {
            return false;
        }
        try {
            parse(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Parses {@code org/name}.
     *
     * @throws IllegalArgumentException naming the text when it is not a valid repo id
     */
    public static RepoId parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0 || slash != text.lastIndexOf('/')) {
            throw new IllegalArgumentException("\"" + text + "\" is not a repo id of the form ORG/NAME");
        }
        return new RepoId(text.substring(0, slash), text.substring(slash + 1));
    }

    /** The repo's folder in the hub cache: {@code models--org--name}. */
    public String cacheFolder() {
        return "models--" + org + "--" + name;
    }

    @Override
    public String toString() {
        return org + "/" + name;
    }
}
