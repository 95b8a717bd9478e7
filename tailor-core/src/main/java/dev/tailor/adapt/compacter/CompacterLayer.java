package dev.tailor.adapt.compacter;

import dev.tailor.model.site.SublayerHook;
import dev.tailor.tensor.Gelu;
import dev.tailor.tensor.Parameter;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * One Compacter bottleneck at a sublayer output: {@code out = h + up(gelu(down(h)))}, where {@code down}
 * ({@code hidden → hidden/reduction_factor}) and {@code up} (back to {@code hidden}) are {@link PhmLayer}s sharing
 * the rule matrices, and GELU is PyTorch's exact one ({@link Gelu}). Backward recomputes the bottleneck
 * activations from the saved sublayer output {@code h}: they are {@code hidden/reduction_factor} wide, cheap next
 * to keeping them.
 */
public final class CompacterLayer implements SublayerHook {
    private final PhmLayer down;
    private final PhmLayer up;

    /**
     * A bottleneck of two PHM layers.
     *
     * @throws IllegalArgumentException when {@code up} does not map the bottleneck back to {@code down}'s input
     */
    public CompacterLayer(PhmLayer down, PhmLayer up) {
        if (up.in() != down.out() || up.out() != down.in()) {
            throw new IllegalArgumentException("Compacter layer: down projection " + down.in() + " -> " + down.out()
                    + " and up projection " + up.in() + " -> " + up.out() + " do not form a bottleneck");
        }
        this.down = down;
        this.up = up;
    }

    /** The down projection {@code hidden → bottleneck}. */
    public PhmLayer down() {
        return down;
    }

    /** The up projection {@code bottleneck → hidden}. */
    public PhmLayer up() {
        return up;
    }

    @Override
    public void checkFits(String site, int hidden) {
        if (hidden != down.in()) {
            throw new IllegalArgumentException(site + ": Compacter layer is for hidden size " + down.in()
                    + " but the model's is " + hidden);
        }
    }

    /** The shared rule first, then the down and up projections' own factors and biases (each tensor once). */
    @Override
    public List<Parameter> parameters() {
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : down.parameters()) {
            if (seen.add(p)) {
                out.add(p);
            }
        }
        for (Parameter p : up.parameters()) {
            if (seen.add(p)) {
                out.add(p);
            }
        }
        return List.copyOf(out);
    }

    @Override
    public void forward(float[] h, int m, float[] out) {
        int d = down.in();
        float[] act = bottleneck(h, m);
        Gelu.forward(act, act, act.length);
        up.forward(act, m, out);
        for (int i = 0; i < m * d; i++) {
            out[i] += h[i];
        }
    }

    @Override
    public void backward(float[] dOut, float[] h, int m, float[] dh) {
        int d = down.in();
        int k = down.out();
        float[] z = bottleneck(h, m);
        float[] act = new float[m * k];
        Gelu.forward(z, act, act.length);
        float[] dAct = new float[m * k];
        up.backward(dOut, act, m, dAct);
        Gelu.backward(z, dAct, dAct.length);
        down.backward(dAct, h, m, dh);
        for (int i = 0; i < m * d; i++) {
            dh[i] += dOut[i];
        }
    }

    /** The pre-activation {@code z [m, bottleneck] = down(h)}. */
    private float[] bottleneck(float[] h, int m) {
        float[] z = new float[m * down.out()];
        down.forward(h, m, z);
        return z;
    }
}
