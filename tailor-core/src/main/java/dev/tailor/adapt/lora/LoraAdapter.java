package dev.tailor.adapt.lora;

import dev.tailor.tensor.LinearBackward;
import dev.tailor.tensor.MatMul;
import dev.tailor.tensor.WeightMatrix;
import dev.tailor.train.Parameter;
import dev.tailor.train.nn.LinearAdapter;

import java.util.List;

/**
 * One LoRA pair at a linear site: {@code y += s · (x·Aᵀ)·Bᵀ} with A {@code [r, in]}, B {@code [out, r]}.
 * Backward recomputes {@code h = x·Aᵀ} ({@code m·in·r} multiply-adds, small next to the base product):
 * {@code dB += s·dYᵀ·h}, {@code dh = s·dY·B}, {@code dA += dhᵀ·x}, {@code dX += dh·A}.
 */
public final class LoraAdapter implements LinearAdapter {
    private final Parameter a;
    private final Parameter b;
    private final int r;
    private final int in;
    private final int out;
    private final float scale;

    /**
     * A LoRA pair over existing parameters.
     *
     * @param a     {@code lora_A} {@code [r, in]}
     * @param b     {@code lora_B} {@code [out, r]}
     * @param scale {@code lora_alpha / r}, or {@code lora_alpha / sqrt(r)} for rsLoRA
     */
    public LoraAdapter(Parameter a, Parameter b, float scale) {
        long[] as = a.shape();
        long[] bs = b.shape();
        if (as.length != 2 || bs.length != 2 || as[0] != bs[1]) {
            throw new IllegalArgumentException("LoRA pair " + a.name() + " " + java.util.Arrays.toString(as) + " and "
                    + b.name() + " " + java.util.Arrays.toString(bs) + " do not fit: A is [r, in], B is [out, r]");
        }
        this.a = a;
        this.b = b;
        this.r = (int) as[0];
        this.in = (int) as[1];
        this.out = (int) bs[0];
        this.scale = scale;
    }

    /** Rank r. */
    public int rank() {
        return r;
    }

    /** The scaling s. */
    public float scale() {
        return scale;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(a, b);
    }

    @Override
    public void checkFits(String module, int linearOut, int linearIn) {
        if (linearOut != out || linearIn != in) {
            throw new IllegalArgumentException(module + ": LoRA pair is for a [" + out + ", " + in
                    + "] linear but the model's is [" + linearOut + ", " + linearIn + "]");
        }
    }

    @Override
    public void forward(float[] x, int m, float[] y) {
        float[] h = new float[m * r];
        MatMul.matmulTransposed(x, m, WeightMatrix.of(a.data(), r, in), h);
        float[] delta = new float[m * out];
        MatMul.matmulTransposed(h, m, WeightMatrix.of(b.data(), out, r), delta);
        for (int i = 0; i < m * out; i++) {
            y[i] += scale * delta[i];
        }
    }

    @Override
    public void backward(float[] dy, float[] x, int m, float[] dx) {
        float[] h = new float[m * r];
        MatMul.matmulTransposed(x, m, WeightMatrix.of(a.data(), r, in), h);
        float[] sdy = new float[m * out];
        for (int i = 0; i < sdy.length; i++) {
            sdy[i] = scale * dy[i];
        }
        LinearBackward.weightGrad(sdy, h, m, out, r, b.grad());
        float[] dh = new float[m * r];
        LinearBackward.inputGrad(sdy, m, WeightMatrix.of(b.data(), out, r), dh);
        LinearBackward.weightGrad(dh, x, m, r, in, a.grad());
        if (dx != null) {
            float[] part = new float[m * in];
            LinearBackward.inputGrad(dh, m, WeightMatrix.of(a.data(), r, in), part);
            for (int i = 0; i < part.length; i++) {
                dx[i] += part[i];
            }
        }
    }
}
