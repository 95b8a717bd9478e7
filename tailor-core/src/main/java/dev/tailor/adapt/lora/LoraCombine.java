package dev.tailor.adapt.lora;

import dev.tailor.tensor.Svd;
import dev.tailor.adapt.AdapterCombination;
import dev.tailor.adapt.AdapterFiles;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.Parameter;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Weighted combination of LoRA adapters into a new one, as PEFT's {@code LoraModel.add_weighted_adapter}. Each
 * adapter i brings, per module, its pair and its own scale {@code sᵢ} (from {@code alpha_pattern},
 * {@code rank_pattern} and rsLoRA, as loaded); the result has scale 1 everywhere, its config
 * {@code r = lora_alpha = new_rank} and {@code use_rslora = false}, with modules of another rank listed in
 * {@code rank_pattern} and {@code alpha_pattern} (alpha = their rank), so saving and loading it reproduces each
 * module's ΔW. Per module, over the adapters that target it:
 * <ul>
 *   <li>{@code cat}: {@code A = [w₁s₁A₁; w₂s₂A₂; …]}, {@code B = [B₁ B₂ …]}, so {@code ΔW = Σ wᵢ·sᵢ·Bᵢ·Aᵢ}
 *       exactly; {@code new_rank} is the sum of the adapters' ranks.</li>
 *   <li>{@code linear}, {@code ties}, {@code dare_linear}, {@code dare_ties}, {@code magnitude_prune}: A and B are
 *       merged separately ({@link TaskArithmetic}) with weights {@code sign(wᵢsᵢ)·√|wᵢsᵢ|} for the A's and
 *       {@code √|wᵢsᵢ|} for the B's, so {@code linear} gives {@code ΔW = (Σ √|wᵢsᵢ|·Bᵢ)·(Σ ±√|wᵢsᵢ|·Aᵢ)}, cross
 *       terms included. All adapters must have the same rank, which is {@code new_rank}.</li>
 *   <li>{@code svd} and the {@code *_svd} types, as PEFT's {@code _svd_generalized_task_arithmetic_weighted_adapter}
 *       (after kohya-ss's {@code svd_merge_lora.py}): the {@code ΔWᵢ = sᵢ·Bᵢ·Aᵢ} are merged with weights
 *       {@code wᵢ} ({@link TaskArithmetic}), then {@code U, S, Vh = torch.linalg.svd(ΔW, full_matrices=True)},
 *       {@code B = U[:, :r]·diag(S[:r])}, {@code A = Vh[:r, :]} with {@code r = new_rank} ({@code svd_rank}, default
 *       the largest adapter rank), and with {@code svd_clamp = q}: {@code hi = quantile(cat(B.flatten(),
 *       A.flatten()), q)}, {@code B, A ← clamp(B, −hi, hi), clamp(A, −hi, hi)}. Tailor's SVD is exact ({@link Svd}:
 *       of the stacked factors for {@code svd}, one-sided Jacobi of the dense merged ΔW for the pruned types), so
 *       the result depends on no seed but DARE's.</li>
 * </ul>
 * PEFT's fixes followed: huggingface/peft#817 (optional {@code svd_clamp}, {@code svd_rank}, {@code cat},
 * {@code svd_full_matrices}); huggingface/peft#3111 "FIX Several bugs when adding merged LoRA weights" (the SVD
 * path weighted the ΔWᵢ, which already hold sᵢ, by {@code wᵢ·sᵢ}, applying the scale twice: now {@code wᵢ}
 * alone); huggingface/peft#3449 "FIX add_weighted_adapter creates an overscaled adapter when the source uses
 * rslora" (the result has {@code use_rslora = false}, so its scale is 1). Where PEFT's result is not determined:
 * <ul>
 *   <li>{@code r > min(out, in)}: PEFT's {@code U[:, :r]·diag(S[:r])} and {@code Vh[:r]} then do not fit a rank-r
 *       pair; Tailor takes {@code min(r, out, in)} triplets and lists the module in {@code rank_pattern}.</li>
 *   <li>{@code r} above the rank of ΔW: the full SVD's extra triplets have S = 0, so zero columns of B, but
 *       orthonormal rows of A that complete Vᵀ; LAPACK picks them from the null space of ΔW as it may. They
 *       leave {@code B·A} unchanged, but enter the clamp's quantile. The signs of the singular pairs, which LAPACK
 *       also picks as it may, enter it too. Tailor fixes both ({@link Svd#canonical}: a singular value at most
 *       {@code σ₀·max(out, in)·2⁻²³} counts as zero, each pair signed so that the largest-magnitude entry of its
 *       left vector is positive, the null space completed axis by axis), so a clamped result is PEFT's clamp of a
 *       valid SVD of ΔW, but another valid SVD, LAPACK's among them, can move the clamped ΔW by tens of percent
 *       (measured on the test cases: 4% for signs alone, 18–110% with a completed null space).</li>
 * </ul>
 * An adapter's rank is PEFT's: the largest of its {@code r} and its modules' ranks. As in PEFT, a single adapter is
 * always combined {@code linear}ly. Modules are combined in parallel on {@link Parallel}'s threads: each depends
 * only on its own pairs and on a generator seeded by its name, so the result is the same bit for bit whatever the
 * thread count.
 */
public final class LoraCombine {
    private LoraCombine() {
    }

    /**
     * The weighted combination of {@link #combine(List, List, CombineOptions)} as an {@link AdapterCombination}, for
     * {@link dev.tailor.adapt.AdaptedModel#combine}: it takes LoRA adapters only.
     *
     * @throws IllegalArgumentException (when applied) naming an adapter that is not LoRA and its type
     */
    public static AdapterCombination<LoraModel> weighted(List<Double> weights, CombineOptions options) {
        return named -> {
            List<LoraModel> loras = new ArrayList<>();
            named.forEach((name, adapter) -> {
                if (!(adapter instanceof LoraModel lora)) {
                    throw new IllegalArgumentException("adapter \"" + name + "\" is a " + adapter.type()
                            + " adapter: only LoRA adapters can be combined");
                }
                loras.add(lora);
            });
            return combine(loras, weights, options);
        };
    }

    /**
     * Combines {@code adapters} with {@code weights}.
     *
     * @throws IllegalArgumentException when the counts differ, the ranks do not suit the type, or a module's pairs
     *                                  disagree on its shape (naming the module)
     */
    public static LoraModel combine(List<LoraModel> adapters, List<Double> weights, CombineOptions options) {
        if (adapters.size() != weights.size() || adapters.isEmpty()) {
            throw new IllegalArgumentException("combine needs one weight per adapter: " + adapters.size()
                    + " adapters, " + weights.size() + " weights");
        }
        for (LoraModel a : adapters) {
            if (!a.magnitudes().isEmpty() || !a.biases().isEmpty()) {
                throw new IllegalArgumentException("a DoRA adapter or one with trained biases cannot be combined "
                        + "(only plain LoRA pairs add up)");
            }
        }
        CombinationType type = adapters.size() == 1 ? CombinationType.LINEAR : options.type();
        List<Integer> ranks = adapters.stream().map(LoraCombine::rank).toList();
        int newRank;
        if (type == CombinationType.CAT) {
            newRank = ranks.stream().mapToInt(Integer::intValue).sum();
        } else if (type.svd()) {
            newRank = options.svdRank() != null ? options.svdRank()
                    : ranks.stream().mapToInt(Integer::intValue).max().orElseThrow();
        } else {
            if (ranks.stream().distinct().count() != 1) {
                throw new IllegalArgumentException("all adapters must have the same r for the " + type.peftName()
                        + " method, got " + ranks + " (use cat or svd to combine different ranks)");
            }
            newRank = ranks.getFirst();
        }
        TreeSet<String> names = new TreeSet<>();
        adapters.forEach(a -> names.addAll(a.modules().keySet()));
        List<String> modules = List.copyOf(names);
        List<List<LoraLayer>> parts = new ArrayList<>();
        List<List<Double>> partWeights = new ArrayList<>();
        for (String module : modules) {
            List<LoraLayer> moduleParts = new ArrayList<>();
            List<Double> moduleWeights = new ArrayList<>();
            for (int i = 0; i < adapters.size(); i++) {
                LoraLayer a = adapters.get(i).modules().get(module);
                if (a != null) {
                    moduleParts.add(a);
                    moduleWeights.add(weights.get(i));
                }
            }
            checkShapes(module, moduleParts);
            if (type != CombinationType.CAT && !type.svd()) {
                checkRanks(module, type, moduleParts);
            }
            parts.add(moduleParts);
            partWeights.add(moduleWeights);
        }
        // modules are independent (each draws from its own generator): combine them in parallel, collect by index
        LoraLayer[] combined = new LoraLayer[modules.size()];
        Parallel.parallelFor(modules.size(), m -> {
            String module = modules.get(m);
            if (type == CombinationType.CAT) {
                combined[m] = cat(module, parts.get(m), partWeights.get(m));
            } else if (type.svd()) {
                combined[m] = svd(module, type, parts.get(m), partWeights.get(m), newRank, options);
            } else {
                combined[m] = factorwise(module, type, parts.get(m), partWeights.get(m), options);
            }
        });
        Map<String, LoraLayer> out = new TreeMap<>();
        Map<String, Integer> rankPattern = new TreeMap<>();
        Map<String, Double> alphaPattern = new TreeMap<>();
        TreeSet<String> projections = new TreeSet<>();
        for (int m = 0; m < modules.size(); m++) {
            String module = modules.get(m);
            out.put(module, combined[m]);
            projections.add(module.substring(module.lastIndexOf('.') + 1));
            if (combined[m].rank() != newRank) {
                rankPattern.put(module, combined[m].rank());
                alphaPattern.put(module, (double) combined[m].rank());
            }
        }
        LoraConfig settings = new LoraConfig(newRank, newRank, 0, List.copyOf(projections), false,
                layers(adapters));
        return new LoraModel(settings, out, rankPattern, alphaPattern);
    }

    /**
     * Combines the adapters in {@code dirs} and saves the result in PEFT's layout in {@code output}, with the base
     * fingerprint they share and the first one's {@code base_model_name_or_path}.
     *
     * @throws IllegalArgumentException when the adapters record different bases or one is not a LoRA adapter
     */
    public static LoraModel combine(List<Path> dirs, List<Double> weights, CombineOptions options, Path output) {
        List<LoraModel> loaded = new ArrayList<>();
        String fingerprint = null;
        for (Path dir : dirs) {
            String f = AdapterFiles.baseFingerprint(dir);
            if (fingerprint != null && f != null && !f.equals(fingerprint)) {
                throw new IllegalArgumentException(dir + " was trained on base " + f + ", an earlier adapter on "
                        + fingerprint + ": adapters of different bases cannot be combined");
            }
            fingerprint = fingerprint != null ? fingerprint : f;
            if (!(AdapterFiles.load(dir) instanceof LoraModel lora)) {
                throw new IllegalArgumentException(dir + " is not a LoRA adapter: only LoRA adapters can be combined");
            }
            loaded.add(lora);
        }
        LoraModel combined = combine(loaded, weights, options);
        String baseModel = AdapterFiles.config(dirs.getFirst()).path("base_model_name_or_path").asText("combined");
        combined.save(output, baseModel, fingerprint);
        return combined;
    }

    /** PEFT's rank of an adapter: the largest of its {@code r} and its modules' ranks. */
    static int rank(LoraModel adapter) {
        int r = adapter.settings().r();
        for (LoraLayer a : adapter.modules().values()) {
            r = Math.max(r, a.rank());
        }
        return r;
    }

    private static List<Integer> layers(List<LoraModel> adapters) {
        TreeSet<Integer> layers = new TreeSet<>();
        for (LoraModel a : adapters) {
            if (a.settings().layersToTransform() == null) {
                return null;
            }
            layers.addAll(a.settings().layersToTransform());
        }
        return List.copyOf(layers);
    }

    private static void checkShapes(String module, List<LoraLayer> parts) {
        LoraLayer first = parts.getFirst();
        for (LoraLayer p : parts) {
            if (p.in() != first.in() || p.out() != first.out()) {
                throw new IllegalArgumentException(module + ": adapters disagree on the shape: [" + first.out()
                        + ", " + first.in() + "] and [" + p.out() + ", " + p.in() + "]");
            }
        }
    }

    private static LoraLayer cat(String module, List<LoraLayer> parts, List<Double> weights) {
        int in = parts.getFirst().in();
        int out = parts.getFirst().out();
        int rank = parts.stream().mapToInt(LoraLayer::rank).sum();
        float[] a = new float[rank * in];
        float[] b = new float[out * rank];
        int row = 0;
        for (int i = 0; i < parts.size(); i++) {
            LoraLayer p = parts.get(i);
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
        return pair(module, a, b, rank, in, out);
    }

    private static void checkRanks(String module, CombinationType type, List<LoraLayer> parts) {
        int rank = parts.getFirst().rank();
        for (LoraLayer p : parts) {
            if (p.rank() != rank) {
                throw new IllegalArgumentException(module + ": the " + type.peftName() + " method needs pairs of one "
                        + "rank, got " + rank + " and " + p.rank() + " (use cat or svd)");
            }
        }
    }

    private static LoraLayer factorwise(String module, CombinationType type, List<LoraLayer> parts,
                                          List<Double> weights, CombineOptions options) {
        int rank = parts.getFirst().rank();
        int n = parts.size();
        float[][] as = new float[n][];
        float[][] bs = new float[n][];
        double[] wa = new double[n];
        double[] wb = new double[n];
        for (int i = 0; i < n; i++) {
            LoraLayer p = parts.get(i);
            double ws = weights.get(i) * p.scale();
            // the sign goes on A only, so it is not squared away
            wb[i] = Math.sqrt(Math.abs(ws));
            wa[i] = ws >= 0 ? wb[i] : -wb[i];
            as[i] = p.parameters().get(0).data();
            bs[i] = p.parameters().get(1).data();
        }
        float[] a = TaskArithmetic.merge(type.merge(), as, wa, options.density(), options.majoritySignMethod(),
                random(options.seed(), module, 'A'));
        float[] b = TaskArithmetic.merge(type.merge(), bs, wb, options.density(), options.majoritySignMethod(),
                random(options.seed(), module, 'B'));
        return pair(module, a, b, rank, parts.getFirst().in(), parts.getFirst().out());
    }

    private static LoraLayer svd(String module, CombinationType type, List<LoraLayer> parts, List<Double> weights,
                                   int newRank, CombineOptions options) {
        int in = parts.getFirst().in();
        int out = parts.getFirst().out();
        // PEFT's U[:, :r]·diag(S[:r]) only fits the new pair for r <= min(out, in)
        int rank = Math.min(newRank, Math.min(in, out));
        Svd svd;
        if (type.merge() == CombinationType.TaskMerge.SUM) {
            // ΔW = Σ wᵢ·sᵢ·Bᵢ·Aᵢ = [B₁ B₂ …]·[w₁s₁A₁; w₂s₂A₂; …]: factor it without forming it
            LoraLayer stacked = cat(module, parts, weights);
            svd = Svd.ofProduct(doubles(stacked.parameters().get(1).data()),
                    doubles(stacked.parameters().get(0).data()), out, stacked.rank(), in, rank);
        } else {
            float[][] deltas = new float[parts.size()][];
            double[] w = new double[parts.size()];
            for (int i = 0; i < parts.size(); i++) {
                deltas[i] = parts.get(i).delta();
                w[i] = weights.get(i);
            }
            float[] merged = TaskArithmetic.merge(type.merge(), deltas, w, options.density(),
                    options.majoritySignMethod(), random(options.seed(), module, 'W'));
            svd = Svd.top(doubles(merged), out, in, rank);
        }
        // PEFT's full SVD has `rank` triplets even where ΔW has fewer: the extra ones have S = 0, so zero columns of
        // B, but unit rows of A, which enter the clamp's quantile
        svd = svd.canonical(rank, Math.max(in, out) * Svd.FLOAT_RANK_TOLERANCE);
        float[] b = floats(svd.us());
        float[] a = floats(svd.vt());
        if (options.svdClamp() != null) {
            // hi = quantile([B; A] flattened, svd_clamp); B, A ← clamp(B, −hi, hi), clamp(A, −hi, hi)
            float hi = quantile(b, a, options.svdClamp());
            clamp(b, hi);
            clamp(a, hi);
        }
        return pair(module, a, b, rank, in, out);
    }

    /** {@code torch.quantile} (linear interpolation) of the entries of both arrays together. */
    static float quantile(float[] x, float[] y, double q) {
        float[] all = Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, all, x.length, y.length);
        Arrays.sort(all);
        double pos = q * (all.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, all.length - 1);
        return (float) (all[lo] + (all[hi] - all[lo]) * (pos - lo));
    }

    private static void clamp(float[] x, float hi) {
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.max(-hi, Math.min(hi, x[i]));
        }
    }

    /** A generator for one module and tensor, so results do not depend on which other modules exist. */
    private static SplittableRandom random(long seed, String module, char tensor) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + (module.hashCode() * 31L + tensor));
    }

    private static LoraLayer pair(String module, float[] a, float[] b, int rank, int in, int out) {
        String prefix = "base_model.model." + module;
        return new LoraLayer(new Parameter(prefix + ".lora_A.weight", new long[] {rank, in}, a),
                new Parameter(prefix + ".lora_B.weight", new long[] {out, rank}, b), 1f);
    }

    private static float[] floats(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }

    private static double[] doubles(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }

}
