package dev.tailor.serve;

/**
 * One entry of {@code GET /v1/models}, as OpenAI and vLLM list them.
 *
 * @param id      what a request puts in {@code model}
 * @param object  always {@code "model"}
 * @param created seconds since the epoch
 * @param ownedBy always {@code "tailor"}
 * @param parent  for an adapter, the base's id; null for the base
 * @param root    for the base, where it was loaded from; null for an adapter
 */
public record ModelCard(String id, String object, long created, String ownedBy, String parent, String root) {

    static ModelCard of(String id, long created, String parent, String root) {
        return new ModelCard(id, "model", created, "tailor", parent, root);
    }

    /** The body of {@code GET /v1/models}. */
    public record ModelList(String object, java.util.List<ModelCard> data) {
    }
}
