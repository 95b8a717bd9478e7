package dev.tailor.adapt.lora;

import dev.tailor.train.Parameter;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Weighted combination of LoRA adapters into one, {@code cat} as PEFT's {@code add_weighted_adapter}: per module,
 * {@code A = [w₁s₁A₁; w₂s₂A₂; …]} (stacked along the rank) and {@code B = [B₁ B₂ …]}, with scale 1, so
 * {@code ΔW = Σ wᵢ·sᵢ·Bᵢ·Aᵢ} exactly. Unlike PEFT, a module that only some adapters target takes only their pairs
 * (its rank is the sum of theirs; {@link #ranks} gives it for the config's {@code rank_pattern}).
 */
public final class LoraCombine {
    private LoraCombine() {
    }

    /**
     * Combines {@code adapters} (module → pair, as {@link PeftLoraAdapter#load} gives) with {@code weights}.
     *
     * @throws IllegalArgumentException when the counts differ or a module's pairs disagree on its shape
     */
    public static Map<String, LoraAdapter> cat(List<Map<String, LoraAdapter>> adapters, List<Double> weights) {
        if (adapters.size() != weights.size() || adapters.isEmpty()) {
            throw new IllegalArgumentException("combine needs one weight per adapter: " + adapters.size()
                    + " adapters, " + weights.size() + " weights");
        }
        TreeSet<String> modules = new TreeSet<>();
        adapters.forEach(a -> modules.addAll(a.keySet()));
        Map<String, LoraAdapter> out = new TreeMap<>();
        for (String module : modules) {
            List<LoraAdapter> parts = new ArrayList<>();
            List<Double> partWeights = new ArrayList<>();
            for (int i = 0; i < adapters.size(); i++) {
                LoraAdapter a = adapters.get(i).get(module);
                if (a != null) {
                    parts.add(a);
                    partWeights.add(weights.get(i));
                }
            }
            out.put(module, cat(module, parts, partWeights));
        }
        return out;
    }

    private static LoraAdapter cat(String module, List<LoraAdapter> parts, List<Double> weights) {
        int in = parts.getFirst().in();
        int out = parts.getFirst().out();
        int rank = 0;
        for (LoraAdapter p : parts) {
            if (p.in() != in || p.out() != out) {
                throw new IllegalArgumentException(module + ": adapters disagree on the shape: [" + out + ", " + in
                        + "] and [" + p.out() + ", " + p.in() + "]");
            }
            rank += p.rank();
        }
        float[] a = new float[rank * in];
        float[] b = new float[out * rank];
        int row = 0;
        for (int i = 0; i < parts.size(); i++) {
            LoraAdapter p = parts.get(i);
            float factor = (float) (weights.get(i) * p.scale());
            float[] pa = p.parameters().get(0).data();
            float[] pb = p.parameters().get(1).data();
            for (int k = 0; k < p.rank() * in; k++) {
                a[row * in + k] = factor * pa[k];
            }
            for (int o = 0; o < out; o++) {
                System.arraycopy(pb, o * p.rank(), b, o * rank + row, p.rank());
            }
            row += p.rank();
        }
        String prefix = "base_model.model." + module;
        return new LoraAdapter(new Parameter(prefix + ".lora_A.weight", new long[] {rank, in}, a),
                new Parameter(prefix + ".lora_B.weight", new long[] {out, rank}, b), 1f);
    }

    /**
     * Combines the adapters in {@code dirs} with {@code weights} by {@code cat} and saves the result in PEFT's
     * layout: {@code r} and {@code lora_alpha} are the most common combined rank (scale 1), and modules of another
     * rank are listed in {@code rank_pattern} and {@code alpha_pattern}.
     *
     * @throws IllegalArgumentException when the adapters record different bases
     */
    public static void combine(List<Path> dirs, List<Double> weights, Path output) {
        List<Map<String, LoraAdapter>> loaded = new ArrayList<>();
        String fingerprint = null;
        for (Path dir : dirs) {
            String f = PeftLoraAdapter.baseFingerprint(dir);
            if (fingerprint != null && f != null && !f.equals(fingerprint)) {
                throw new IllegalArgumentException(dir + " was trained on base " + f + ", " + dirs.getFirst()
                        + " on " + fingerprint + ": adapters of different bases cannot be combined");
            }
            fingerprint = fingerprint != null ? fingerprint : f;
            LoraModel model = PeftLoraAdapter.loadModel(dir, dev.tailor.adapt.AdapterFiles.config(dir));
            if (!model.magnitudes().isEmpty() || !model.biases().isEmpty()) {
                throw new IllegalArgumentException(dir + ": a DoRA adapter or one with trained biases cannot be "
                        + "combined (only plain LoRA pairs add up exactly)");
            }
            loaded.add(model.modules());
        }
        Map<String, LoraAdapter> combined = cat(loaded, weights);
        Map<Integer, Integer> counts = new TreeMap<>();
        combined.values().forEach(a -> counts.merge(a.rank(), 1, Integer::sum));
        int r = counts.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        Map<String, Integer> rankPattern = new TreeMap<>();
        Map<String, Double> alphaPattern = new TreeMap<>();
        TreeSet<String> projections = new TreeSet<>();
        combined.forEach((module, a) -> {
            projections.add(module.substring(module.lastIndexOf('.') + 1));
            if (a.rank() != r) {
                rankPattern.put(module, a.rank());
                alphaPattern.put(module, (double) a.rank());
            }
        });
        LoraSettings settings = new LoraSettings(r, r, 0, List.copyOf(projections), false, null);
        PeftLoraAdapter.save(output, settings, combined, "combined", fingerprint, rankPattern, alphaPattern);
    }
}
