package dev.tailor.adapt.prefix;

import dev.tailor.adapt.AdapterShape;
import dev.tailor.model.site.PrefixEncoder;
import dev.tailor.tensor.LinearBackward;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.Ops;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.tensor.Parameter;

import java.util.List;
import java.util.SplittableRandom;

/**
 * PEFT's {@code PrefixEncoder} with {@code prefix_projection}: an embedding {@code [P, token_dim]} through a two-layer
 * MLP, {@code Linear(token_dim, encoder_hidden_size) → Tanh → Linear(encoder_hidden_size, num_layers·2·token_dim)},
 * gives the prefix {@code [P, num_layers·2·token_dim]}. Only the prefix it gives is saved (as PEFT does).
 *
 * @param embedding {@code embedding.weight [P, token_dim]}
 * @param w1        {@code transform.0.weight [encoder_hidden_size, token_dim]}
 * @param b1        {@code transform.0.bias [encoder_hidden_size]}
 * @param w2        {@code transform.2.weight [num_layers·2·token_dim, encoder_hidden_size]}
 * @param b2        {@code transform.2.bias [num_layers·2·token_dim]}
 */
public record PrefixProjection(Parameter embedding, Parameter w1, Parameter b1, Parameter w2, Parameter b2)
        implements PrefixEncoder {

    private static final String PREFIX = "prompt_encoder.";

    /**
     * Fresh tensors as PyTorch makes them: the embedding N(0, 1), each linear's weight and bias
     * U(−1/√in, 1/√in) ({@code nn.Linear}'s default), seeded.
     */
    public static PrefixProjection create(PrefixTuningConfig config, long seed) {
        int p = config.numVirtualTokens();
        int d = config.tokenDim();
        int h = config.encoderHiddenSize();
        int width = config.width();
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] e = new float[p * d];
        for (int i = 0; i < e.length; i++) {
            e[i] = (float) rnd.nextGaussian();
        }
        return new PrefixProjection(new Parameter(PREFIX + "embedding.weight", new long[] {p, d}, e),
                new Parameter(PREFIX + "transform.0.weight", new long[] {h, d}, uniform(h * d, d, rnd)),
                new Parameter(PREFIX + "transform.0.bias", new long[] {h}, uniform(h, d, rnd)),
                new Parameter(PREFIX + "transform.2.weight", new long[] {width, h}, uniform(width * h, h, rnd)),
                new Parameter(PREFIX + "transform.2.bias", new long[] {width}, uniform(width, h, rnd)));
    }

    /** The shapes of the tensors {@link #create} makes for {@code config}, in {@link #parameters()}'s order. */
    static List<AdapterShape.Tensor> shapes(PrefixTuningConfig config) {
        long p = config.numVirtualTokens();
        long d = config.tokenDim();
        long h = config.encoderHiddenSize();
        long width = config.width();
        return List.of(new AdapterShape.Tensor(PREFIX + "embedding.weight", new long[] {p, d}),
                new AdapterShape.Tensor(PREFIX + "transform.0.weight", new long[] {h, d}),
                new AdapterShape.Tensor(PREFIX + "transform.0.bias", new long[] {h}),
                new AdapterShape.Tensor(PREFIX + "transform.2.weight", new long[] {width, h}),
                new AdapterShape.Tensor(PREFIX + "transform.2.bias", new long[] {width}));
    }

    private static float[] uniform(int count, int fanIn, SplittableRandom rnd) {
        double bound = 1.0 / Math.sqrt(fanIn);
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) rnd.nextDouble(-bound, bound);
        }
        return v;
    }

    private int virtual() {
        return (int) embedding.shape()[0];
    }

    private int tokenDim() {
        return (int) embedding.shape()[1];
    }

    private int hidden() {
        return (int) w1.shape()[0];
    }

    private int width() {
        return (int) w2.shape()[0];
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(embedding, w1, b1, w2, b2);
    }

    /** {@code tanh(E·W1ᵀ + b1)}: {@code [P, encoder_hidden_size]}. */
    private float[] activations() {
        int p = virtual();
        int h = hidden();
        float[] a = new float[p * h];
        MatMul.matmulTransposed(embedding.data(), p, WeightMatrix.of(w1.data(), h, tokenDim()), a);
        float[] bias = b1.data();
        for (int r = 0; r < p; r++) {
            for (int j = 0; j < h; j++) {
                a[r * h + j] = (float) Math.tanh(a[r * h + j] + bias[j]);
            }
        }
        return a;
    }

    /** {@code tanh(E·W1ᵀ + b1)·W2ᵀ + b2}. */
    @Override
    public void encode(float[] prefix) {
        int p = virtual();
        int width = width();
        MatMul.matmulTransposed(activations(), p, WeightMatrix.of(w2.data(), width, hidden()), prefix);
        Ops.addBias(prefix, p, b2.data());
    }

    @Override
    public void backward(float[] dPrefix) {
        int p = virtual();
        int h = hidden();
        int d = tokenDim();
        int width = width();
        float[] a = activations();
        // dW2 += dPᵀ·A ; db2 += Σ_rows dP ; dA = dP·W2
        LinearBackward.weightGrad(dPrefix, a, p, width, h, w2.grad());
        addRowSums(dPrefix, p, width, b2.grad());
        float[] dz = new float[p * h];
        LinearBackward.inputGrad(dPrefix, p, WeightMatrix.of(w2.data(), width, h), dz);
        // through tanh: dZ = dA ⊙ (1 − A²)
        for (int i = 0; i < dz.length; i++) {
            dz[i] *= 1f - a[i] * a[i];
        }
        LinearBackward.weightGrad(dz, embedding.data(), p, h, d, w1.grad());
        addRowSums(dz, p, h, b1.grad());
        float[] dE = new float[p * d];
        LinearBackward.inputGrad(dz, p, WeightMatrix.of(w1.data(), h, d), dE);
        float[] g = embedding.grad();
        for (int i = 0; i < dE.length; i++) {
            g[i] += dE[i];
        }
    }

    private static void addRowSums(float[] dy, int rows, int cols, float[] into) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                into[j] += dy[r * cols + j];
            }
        }
    }
}
