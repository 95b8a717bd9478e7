package dev.tailor.adapt.compacter;

import java.util.List;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterShape;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.model.site.SublayerSite;
import dev.tailor.model.ModelConfig;
import dev.tailor.tensor.Parameter;

import java.util.ArrayList;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * A Compacter (or Compacter++) adapter of a whole model: one {@link CompacterLayer} per site
 * ({@code model.layers.{i}.self_attn} and/or {@code model.layers.{i}.mlp}), all built on the one shared
 * {@code phm_rule} tensor, so the gradients of every layer, down and up, accumulate into it.
 *
 * <p>Trainable parameters: {@code n³} for the shared rule plus, per site, {@code (2·phm_rank + 1)·(d + k)}
 * ({@code W_left}, {@code W_right} and bias of the down and up projections), with {@code d} the hidden size and
 * {@code k = d / reduction_factor}.
 *
 * @param settings   the options saved in {@code adapter_config.json}
 * @param hiddenSize the model width d it was made for
 * @param numLayers  the model's decoder blocks
 * @param phmRule    the shared rule matrices {@code [phm_dim, phm_dim, phm_dim]}
 * @param layers     per site, its layer
 */
public record CompacterModel(CompacterConfig settings, int hiddenSize, int numLayers, Parameter phmRule,
                             Map<String, CompacterLayer> layers) implements Adapter {

    /** Copies the map (sorted by site). */
    public CompacterModel {
        layers = new TreeMap<>(layers);
    }

    /**
     * A fresh adapter for {@code config}, seeded, initialised as AdapterHub does except for one deliberate change:
     * the shared rule matrices are drawn from {@code N(0, phm_init_range²)} ({@code phm_c_init "normal"}), every
     * {@code W_left} and the down projections' {@code W_right} glorot-uniformly per rule index
     * ({@code hypercomplex_nonlinearity "glorot-uniform"}; AdapterHub's {@code init_W}, through a truthiness test,
     * draws glorot-normal whatever that option says), biases zero — and the up projections' {@code W_right} are
     * <b>zero</b>, so every {@code W_i} of an up projection is zero, the up projection outputs exactly its zero bias
     * and the adapter starts as the exact identity. It still learns: the gradient of an up {@code W_right_i} is
     * {@code W_left_iᵀ·dW_i}, non-zero because {@code W_left} and the rule are.
     *
     * @throws IllegalArgumentException when the model's sizes do not divide by {@code phm_dim} (see
     *                                  {@link CompacterConfig#bottleneck})
     */
    public static CompacterModel create(CompacterConfig settings, ModelConfig config, long seed) {
        int d = config.hiddenSize();
        int k = settings.bottleneck(d);
        int n = settings.phmDim();
        int rank = settings.phmRank();
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] rule = new float[n * n * n];
        for (int i = 0; i < rule.length; i++) {
            rule[i] = (float) (rnd.nextGaussian() * CompacterConfig.PHM_INIT_RANGE);
        }
        Parameter phmRule = new Parameter(CompacterFiles.RULE, new long[] {n, n, n}, rule);
        Map<String, CompacterLayer> layers = new TreeMap<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (SublayerSite sublayer : settings.architecture().sublayers()) {
                String prefix = CompacterFiles.prefix(layer, sublayer);
                PhmLayer down = new PhmLayer(phmRule,
                        glorot(prefix + "adapter_down.0.W_left", n, d / n, rank, rnd),
                        glorot(prefix + "adapter_down.0.W_right", n, rank, k / n, rnd),
                        new Parameter(prefix + "adapter_down.0.b", new long[] {k}, new float[k]));
                PhmLayer up = new PhmLayer(phmRule,
                        glorot(prefix + "adapter_up.W_left", n, k / n, rank, rnd),
                        new Parameter(prefix + "adapter_up.W_right", new long[] {n, rank, d / n},
                                new float[n * rank * (d / n)]),
                        new Parameter(prefix + "adapter_up.b", new long[] {d}, new float[d]));
                layers.put(sublayer.module(layer), new CompacterLayer(down, up));
            }
        }
        return new CompacterModel(settings, d, config.numLayers(), phmRule, layers);
    }

    /**
     * The shape of what {@link #create} makes, from the config alone. Per row and site, with bottleneck k on hidden
     * size d: the forward's two PHM products, {@code 4·d·k}; the backward recomputes the down product and forms both
     * layers' input gradients and {@code dH = xᵀ·dY}, {@code 10·d·k}. Per pass each PHM layer builds its weight from
     * the factors ({@code 2·n·in·out}, n = {@code phm_dim}) for the forward, the down recomputation and the backward,
     * and follows the chain rule from {@code dH} to the rule and the factors (about {@code 4·n·in·out}): about
     * {@code 18·n·d·k} per site. It keeps nothing itself (the training network keeps the sublayer's output).
     */
    public static AdapterShape shape(CompacterConfig settings, ModelConfig config, String baseName) {
        int d = config.hiddenSize();
        int k = settings.bottleneck(d);
        int n = settings.phmDim();
        int rank = settings.phmRank();
        List<AdapterShape.Tensor> tensors = new ArrayList<>();
        tensors.add(new AdapterShape.Tensor(CompacterFiles.RULE, new long[] {n, n, n}));
        Map<String, List<AdapterShape.Tensor>> sites = new TreeMap<>();
        List<AdapterShape.Piece> pieces = new ArrayList<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (SublayerSite sublayer : settings.architecture().sublayers()) {
                String prefix = CompacterFiles.prefix(layer, sublayer);
                sites.put(sublayer.module(layer), List.of(
                        new AdapterShape.Tensor(prefix + "adapter_down.0.W_left", new long[] {n, d / n, rank}),
                        new AdapterShape.Tensor(prefix + "adapter_down.0.W_right", new long[] {n, rank, k / n}),
                        new AdapterShape.Tensor(prefix + "adapter_down.0.b", new long[] {k}),
                        new AdapterShape.Tensor(prefix + "adapter_up.W_left", new long[] {n, k / n, rank}),
                        new AdapterShape.Tensor(prefix + "adapter_up.W_right", new long[] {n, rank, d / n}),
                        new AdapterShape.Tensor(prefix + "adapter_up.b", new long[] {d})));
                double dk = (double) d * k;
                pieces.add(new AdapterShape.Piece(layer, sublayer, 4 * dk, 10 * dk, 0, 0, 18.0 * n * dk));
            }
        }
        sites.values().forEach(tensors::addAll);
        return new AdapterShape(tensors, tensors, CompacterFiles.config(settings, d, config.numLayers(), baseName),
                pieces, 0, 0, 0);
    }

    /** {@code [n, rows, cols]}, each {@code [rows, cols]} slice Xavier-uniform: {@code U(±sqrt(6 / (rows + cols)))}. */
    private static Parameter glorot(String name, int n, int rows, int cols, SplittableRandom rnd) {
        float[] v = new float[n * rows * cols];
        double bound = Math.sqrt(6.0 / (rows + cols));
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextDouble(-bound, bound);
        }
        return new Parameter(name, new long[] {n, rows, cols}, v);
    }

    /** Trainable parameters {@code n³ + sites·(2·phm_rank + 1)·(d + k)}, from the settings alone. */
    public static long parameterCount(CompacterConfig settings, int hiddenSize, int numLayers) {
        long n = settings.phmDim();
        long d = hiddenSize;
        long k = settings.bottleneck(hiddenSize);
        long sites = (long) numLayers * settings.architecture().sublayers().size();
        return n * n * n + sites * (2L * settings.phmRank() + 1) * (d + k);
    }

    @Override
    public String type() {
        return CompacterFiles.PEFT_TYPE;
    }

    @Override
    public String describe() {
        return (settings.architecture() == CompacterArchitecture.COMPACTER ? "Compacter" : "Compacter++")
                + " phm_dim=" + settings.phmDim() + " phm_rank=" + settings.phmRank() + " reduction_factor="
                + settings.reductionFactor() + " on " + layers.size() + " sites";
    }

    @Override
    public AdapterSites sites() {
        return AdapterSites.ofSublayer(layers);
    }

    @Override
    public Map<String, Object> config(String baseModel) {
        return CompacterFiles.config(this, baseModel);
    }

    /** The shared rule matrices once, then every site's tensors. */
    @Override
    public List<Parameter> savedTensors() {
        return parameters();
    }
}
