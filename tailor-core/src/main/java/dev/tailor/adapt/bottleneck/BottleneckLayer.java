package dev.tailor.adapt.bottleneck;

import dev.tailor.model.site.SublayerHook;
import dev.tailor.tensor.LinearBackward;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.Ops;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One bottleneck adapter at a sublayer output, as AdapterHub's {@code Adapter} module with its default options
 * (no extra layer norms, no gating, scaling 1): {@code out = h + up(f(down(h)))}, with
 * {@code down(h) = h·Dᵀ + d} ({@code D [b, hidden]}) and {@code up(a) = a·Uᵀ + u} ({@code U [hidden, b]}).
 *
 * <p>Backward recomputes {@code z = down(h)} from the saved input: {@code dU += dOutᵀ·f(z)},
 * {@code du += Σ_rows dOut}, {@code dz = (dOut·U) ⊙ f'(z)}, {@code dD += dzᵀ·h}, {@code dd += Σ_rows dz},
 * {@code dh = dOut + dz·D}.
 */
public final class BottleneckLayer implements SublayerHook {
    private final Parameter downWeight;
    private final Parameter downBias;
    private final Parameter upWeight;
    private final Parameter upBias;
    private final NonLinearity nonLinearity;
    private final int hidden;
    private final int bottleneck;

    /**
     * An adapter over existing tensors.
     *
     * @throws IllegalArgumentException naming the tensors when their shapes do not fit together
     */
    public BottleneckLayer(Parameter downWeight, Parameter downBias, Parameter upWeight, Parameter upBias,
                             NonLinearity nonLinearity) {
        long[] ds = downWeight.shape();
        long[] us = upWeight.shape();
        boolean fits = ds.length == 2 && us.length == 2 && us[0] == ds[1] && us[1] == ds[0]
                && downBias.size() == ds[0] && upBias.size() == ds[1];
        if (!fits) {
            throw new IllegalArgumentException("bottleneck tensors do not fit together: " + downWeight.name() + " "
                    + Arrays.toString(ds) + ", " + downBias.name() + " " + Arrays.toString(downBias.shape()) + ", "
                    + upWeight.name() + " " + Arrays.toString(us) + ", " + upBias.name() + " "
                    + Arrays.toString(upBias.shape()) + " (expected [b, hidden], [b], [hidden, b], [hidden])");
        }
        this.downWeight = downWeight;
        this.downBias = downBias;
        this.upWeight = upWeight;
        this.upBias = upBias;
        this.nonLinearity = nonLinearity;
        this.bottleneck = (int) ds[0];
        this.hidden = (int) ds[1];
    }

    /**
     * A fresh adapter at {@code site} with AdapterHub's {@code init_weights="mam_adapter"}, the one of its
     * initialisations that starts as the identity: the down weight Kaiming-uniform with {@code a = √5}, i.e.
     * {@code U(−1/√hidden, 1/√hidden)}, the down bias zero, the up weight and bias exactly zero. Tensors are named
     * {@code <site>.adapter_down.weight}, {@code .adapter_down.bias}, {@code .adapter_up.weight},
     * {@code .adapter_up.bias}.
     */
    public static BottleneckLayer create(String site, int hidden, int bottleneck, NonLinearity nonLinearity,
                                           SplittableRandom rnd) {
        float[] down = new float[Math.multiplyExact(bottleneck, hidden)];
        double bound = 1.0 / Math.sqrt(hidden);
        for (int i = 0; i < down.length; i++) {
            down[i] = (float) rnd.nextDouble(-bound, bound);
        }
        return new BottleneckLayer(
                new Parameter(site + ".adapter_down.weight", new long[] {bottleneck, hidden}, down),
                new Parameter(site + ".adapter_down.bias", new long[] {bottleneck}, new float[bottleneck]),
                new Parameter(site + ".adapter_up.weight", new long[] {hidden, bottleneck}, new float[down.length]),
                new Parameter(site + ".adapter_up.bias", new long[] {hidden}, new float[hidden]),
                nonLinearity);
    }

    /** The model's hidden size it is made for. */
    public int hidden() {
        return hidden;
    }

    /** The bottleneck size b. */
    public int bottleneck() {
        return bottleneck;
    }

    /** Its non-linearity. */
    public NonLinearity nonLinearity() {
        return nonLinearity;
    }

    @Override
    public void checkFits(String site, int modelHidden) {
        if (modelHidden != hidden) {
            throw new IllegalArgumentException(site + ": bottleneck adapter " + downWeight.name() + " is for hidden "
                    + "size " + hidden + " but the model's is " + modelHidden);
        }
    }

    /** Down weight, down bias, up weight, up bias. */
    @Override
    public List<Parameter> parameters() {
        return List.of(downWeight, downBias, upWeight, upBias);
    }

    @Override
    public void forward(float[] h, int m, float[] out) {
        float[] z = down(h, m);
        float[] a = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            a[i] = (float) nonLinearity.apply(z[i]);
        }
        MatMul.matmulTransposed(a, m, WeightMatrix.of(upWeight.data(), hidden, bottleneck), out);
        float[] u = upBias.data();
        for (int r = 0; r < m; r++) {
            int row = r * hidden;
            for (int j = 0; j < hidden; j++) {
                out[row + j] += u[j] + h[row + j];
            }
        }
    }

    @Override
    public void backward(float[] dOut, float[] h, int m, float[] dh) {
        float[] z = down(h, m);
        float[] a = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            a[i] = (float) nonLinearity.apply(z[i]);
        }
        LinearBackward.weightGrad(dOut, a, m, hidden, bottleneck, upWeight.grad());
        addRowSums(dOut, m, hidden, upBias.grad());
        float[] dz = new float[m * bottleneck];
        LinearBackward.inputGrad(dOut, m, WeightMatrix.of(upWeight.data(), hidden, bottleneck), dz);
        for (int i = 0; i < dz.length; i++) {
            dz[i] *= (float) nonLinearity.derivative(z[i]);
        }
        LinearBackward.weightGrad(dz, h, m, bottleneck, hidden, downWeight.grad());
        addRowSums(dz, m, bottleneck, downBias.grad());
        LinearBackward.inputGrad(dz, m, WeightMatrix.of(downWeight.data(), bottleneck, hidden), dh);
        for (int i = 0; i < m * hidden; i++) {
            dh[i] += dOut[i];
        }
    }

    /** {@code z = h·Dᵀ + d} {@code [m, b]}. */
    private float[] down(float[] h, int m) {
        float[] z = new float[m * bottleneck];
        MatMul.matmulTransposed(h, m, WeightMatrix.of(downWeight.data(), bottleneck, hidden), z);
        Ops.addBias(z, m, downBias.data());
        return z;
    }

    /** {@code sums[j] += Σ_r g[r, j]}. */
    private static void addRowSums(float[] g, int m, int n, float[] sums) {
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < n; j++) {
                sums[j] += g[r * n + j];
            }
        }
    }
}
