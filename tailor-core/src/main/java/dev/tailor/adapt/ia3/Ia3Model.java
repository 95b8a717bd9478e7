package dev.tailor.adapt.ia3;

import dev.tailor.tensor.Parameter;
import java.util.ArrayList;
import java.util.List;
import dev.tailor.adapt.Adapter;
import dev.tailor.adapt.AdapterShape;
import dev.tailor.model.site.AdapterSites;
import dev.tailor.model.site.LinearSite;
import dev.tailor.model.site.Site;
import dev.tailor.model.ModelConfig;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An (IA)³ adapter of a whole model: its options and one {@link Ia3Layer} per targeted module.
 *
 * @param settings the options saved in {@code adapter_config.json}
 * @param modules  per module ({@code model.layers.0.mlp.down_proj}), its vector
 */
public record Ia3Model(Ia3Config settings, Map<String, Ia3Layer> modules) implements Adapter {

    /** Copies the map (sorted by module). */
    public Ia3Model {
        modules = new TreeMap<>(modules);
    }

    /**
     * Fresh vectors for every target of {@code settings} in {@code config}: ones, or with
     * {@code init_ia3_weights=false} standard-normal values drawn from {@code seed}.
     */
    public static Ia3Model create(Ia3Config settings, ModelConfig config, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Ia3Layer> modules = new TreeMap<>();
        for (String module : settings.modules(config)) {
            String projection = LinearSite.parse(module).site().shortName();
            int[] shape = Ia3Config.shape(config, projection);
            Ia3Layer a = Ia3Layer.create(module, shape[0], shape[1], settings.isFeedforward(projection));
            if (!settings.initIa3Weights()) {
                float[] v = a.vector().data();
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) gaussian(rnd);
                }
            }
            modules.put(module, a);
        }
        return new Ia3Model(settings, modules);
    }

    /**
     * The shape of what {@link #create} makes, from the config alone. Per row a vector scales {@code n} values
     * (n FLOPs); the backward of an output scaling recomputes the base product {@code x·Wᵀ} for its vector's
     * gradient ({@code 2·in·out}).
     */
    public static AdapterShape shape(Ia3Config settings, ModelConfig config, String baseName) {
        List<AdapterShape.Tensor> tensors = new ArrayList<>();
        List<AdapterShape.Piece> pieces = new ArrayList<>();
        for (String module : new TreeSet<>(settings.modules(config))) {
            Site.At<LinearSite> at = LinearSite.parse(module);
            int[] shape = Ia3Config.shape(config, at.site().shortName());
            boolean feedforward = settings.isFeedforward(at.site().shortName());
            long n = feedforward ? shape[1] : shape[0];
            tensors.add(new AdapterShape.Tensor("base_model.model." + module + ".ia3_l",
                    feedforward ? new long[] {1, n} : new long[] {n, 1}));
            pieces.add(new AdapterShape.Piece(at.layer(), at.site(), n,
                    feedforward ? 2.0 * n : 2.0 * shape[0] * shape[1] + 2.0 * n, 0, 0, 0));
        }
        return new AdapterShape(tensors, tensors, Ia3Files.config(settings, baseName), pieces, 0, 0, 0);
    }

    @Override
    public String type() {
        return "IA3";
    }

    @Override
    public String describe() {
        long ff = modules.values().stream().filter(Ia3Layer::feedforward).count();
        return "IA³ on " + modules.size() + " modules (" + ff + " feed-forward)";
    }

    @Override
    public AdapterSites sites() {
        return AdapterSites.ofLinear(modules);
    }

    @Override
    public Map<String, Object> config(String baseModel) {
        return Ia3Files.config(this, baseModel);
    }

    /** The scaling vectors under PEFT's names. */
    @Override
    public List<Parameter> savedTensors() {
        List<Parameter> tensors = new ArrayList<>();
        modules.values().forEach(a -> tensors.add(a.vector()));
        return tensors;
    }

    private static double gaussian(SplittableRandom rnd) {
        double u = 1.0 - rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }
}
