package dev.tailor.hub;

import java.net.http.HttpResponse;

/**
 * Turns a failed Hub response into a message a user can act on, using the Hub's {@code X-Error-Code} header
 * ({@code RepoNotFound}, {@code RevisionNotFound}, {@code EntryNotFound}, {@code GatedRepo}) when it is present.
 */
final class HubErrors {
    private HubErrors() {
    }

    /**
     * Throws unless the status is 2xx.
     *
     * @param file the repo path being fetched, or null for the repo listing
     */
    static void check(HttpResponse<?> r, HubHttp http, RepoId repo, String revision, String file) {
        int status = r.statusCode();
        if (status >= 200 && status < 300) {
            return;
        }
        HubHttp.discard(r);
        String code = r.headers().firstValue("X-Error-Code").orElse("");
        String serverMessage = r.headers().firstValue("X-Error-Message").map(m -> " (" + m + ")").orElse("");
        String what = file == null ? repo + " at revision " + revision : file + " of " + repo + " at " + revision;
        throw new HubException(switch (status) {
            case 401, 403 -> code.equals("GatedRepo")
                    ? repo + " is gated (HTTP " + status + "): accept its terms at " + http.endpoint() + "/" + repo
                    + " and set HF_TOKEN to a token of that account"
                    : http.hasToken()
                    ? "access to " + repo + " denied (HTTP " + status + "): the token in HF_TOKEN cannot read it "
                    + "(the repo is private, gated or does not exist)" + serverMessage
                    : "access to " + repo + " denied (HTTP " + status + "): the repo is private or gated, or does "
                    + "not exist; set HF_TOKEN to a Hugging Face access token with read access" + serverMessage;
            case 404 -> switch (code) {
                case "RevisionNotFound" -> "revision " + revision + " not found in " + repo + " (HTTP 404)";
                case "EntryNotFound" -> "file " + file + " not found in " + repo + " at " + revision + " (HTTP 404)";
                default -> "repo " + repo + " or revision " + revision + " not found at " + http.endpoint()
                        + " (HTTP 404)";
            };
            default -> "the Hub answered HTTP " + status + " for " + what + serverMessage + " (" + r.uri() + ")";
        });
    }
}
