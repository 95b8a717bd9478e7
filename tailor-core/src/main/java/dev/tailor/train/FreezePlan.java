package dev.tailor.train;

import dev.tailor.adapt.InvalidOptionException;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which base tensors a fine-tuning run trains, by their Hugging Face names.
 *
 * <ul>
 *   <li>full: every tensor;</li>
 *   <li>partial: the block tensors of the layers in {@code layers} (all layers when null) whose module path
 *   ({@code self_attn.q_proj}, {@code mlp.up_proj}, {@code input_layernorm} …) matches one of
 *   {@code modules} (glob: {@code *} is any run of characters; all modules when empty), restricted to norms and
 *   biases when {@code biasAndNormOnly} (BitFit: on Llama the trainable vectors are the norms and any biases);
 *   plus the embeddings when {@code embeddings}, and the final norm and {@code lm_head} when {@code head}.</li>
 * </ul>
 *
 * @param full            train everything
 * @param layers          inclusive layer range {@code [from, to]} or null for all
 * @param modules         module globs (empty = all)
 * @param biasAndNormOnly only norm weights and biases
 * @param embeddings      train {@code model.embed_tokens} (and a tied head)
 * @param head            train {@code model.norm} and an untied {@code lm_head}
 */
public record FreezePlan(boolean full, int[] layers, List<String> modules, boolean biasAndNormOnly,
                         boolean embeddings, boolean head) implements Predicate<String> {

    private static final Pattern LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)\\.(weight|bias)");

    /** Every tensor trainable. */
    public static FreezePlan fullFineTuning() {
        return new FreezePlan(true, null, List.of(), false, true, true);
    }

    /**
     * Checks that a partial plan selects something.
     *
     * @throws IllegalArgumentException naming the missing choice
     */
    public FreezePlan {
        modules = List.copyOf(modules);
        if (!full && layers == null && modules.isEmpty() && !biasAndNormOnly && !embeddings && !head) {
            throw new InvalidOptionException("train_layers", "partial fine-tuning needs train_layers, train_modules, "
                    + "bias_norm_only, train_embeddings or train_head to say what to train");
        }
        if (layers != null && (layers.length != 2 || layers[0] < 0 || layers[1] < layers[0])) {
            throw new IllegalArgumentException("a layer range is FROM-TO with 0 <= FROM <= TO");
        }
    }

    /** Parses {@code "6-7"} or {@code "3"} into an inclusive range. */
    public static int[] parseLayers(String spec) {
        try {
            String[] parts = spec.trim().split("-");
            int from = Integer.parseInt(parts[0].trim());
            int to = parts.length == 1 ? from : Integer.parseInt(parts[1].trim());
            if (parts.length > 2 || from < 0 || to < from) {
                throw new NumberFormatException();
            }
            return new int[] {from, to};
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            throw new InvalidOptionException("train_layers", "train_layers \"" + spec + "\": expected FROM-TO, e.g. 6-7");
        }
    }

    @Override
    public boolean test(String name) {
        if (full) {
            return true;
        }
        if (name.equals("model.embed_tokens.weight")) {
            return embeddings;
        }
        if (name.equals("model.norm.weight") || name.equals("lm_head.weight")) {
            return head;
        }
        Matcher m = LAYER.matcher(name);
        if (!m.matches()) {
            return false;
        }
        int layer = Integer.parseInt(m.group(1));
        String module = m.group(2);
        boolean isVector = m.group(3).equals("bias") || module.endsWith("norm");
        if (layers == null && modules.isEmpty() && !biasAndNormOnly) {
            return false;
        }
        return (layers == null || (layer >= layers[0] && layer <= layers[1]))
                && (modules.isEmpty() || modules.stream().anyMatch(g -> glob(g).matcher(module).matches()))
                && (!biasAndNormOnly || isVector);
    }

    private static Pattern glob(String glob) {
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            re.append(c == '*' ? ".*" : Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(re.toString());
    }

    /** A short description for the log. */
    public String describe() {
        if (full) {
            return "full fine-tuning";
        }
        StringBuilder s = new StringBuilder("partial fine-tuning of");
        if (layers != null) {
            s.append(" layers ").append(layers[0]).append('-').append(layers[1]);
        }
        if (!modules.isEmpty()) {
            s.append(" modules ").append(String.join(",", modules));
        }
        if (biasAndNormOnly) {
            s.append(" norms and biases");
        }
        if (embeddings) {
            s.append(" +embeddings");
        }
        if (head) {
            s.append(" +head");
        }
        return s.toString();
    }
}
