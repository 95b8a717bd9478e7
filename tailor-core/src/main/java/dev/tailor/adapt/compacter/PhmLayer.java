package dev.tailor.adapt.compacter;

import dev.tailor.tensor.MatMulNN;
import dev.tailor.tensor.Ops;
import dev.tailor.tensor.Parameter;

import java.util.List;

/**
 * A parameterised hypercomplex multiplication (PHM) layer as AdapterHub's {@code PHMLayer} computes it with
 * {@code factorized_phm_W} and a shared rule: {@code y = x·H + b} with
 * <pre>
 *   H [in, out] = Σ_{i=1..n} kron(A_i, W_i),   W_i [in/n, out/n] = W_left_i · W_right_i
 * </pre>
 * where {@code A = phm_rule [n, n, n]} (shared by every layer of the adapter), {@code W_left [n, in/n, phm_rank]},
 * {@code W_right [n, phm_rank, out/n]} and {@code b [out]}; n is {@code phm_dim}. Elementwise,
 * {@code H[a·p + k, c·q + l] = Σ_i A[i, a, c] · W_i[k, l]} with {@code p = in/n}, {@code q = out/n}.
 *
 * <p>H is small (a bottleneck side), so each call materialises it once from the factors ({@code n·in·out}
 * multiply-adds) and reuses the dense {@link MatMulNN} kernel for the product; backward forms
 * {@code dH = xᵀ·dY} and follows the chain rule to the factors:
 * {@code dA[i, a, c] = Σ_{k,l} dH[a·p + k, c·q + l]·W_i[k, l]}, {@code dW_i[k, l] = Σ_{a,c} dH[a·p + k, c·q + l]·A[i, a, c]},
 * {@code dW_left_i = dW_i·W_right_iᵀ}, {@code dW_right_i = W_left_iᵀ·dW_i}. The layer keeps no per-call state.
 */
public final class PhmLayer {
    private final Parameter rule;
    private final Parameter wLeft;
    private final Parameter wRight;
    private final Parameter bias;
    private final int n;
    private final int rank;
    private final int in;
    private final int out;

    /**
     * A PHM layer over existing parameters.
     *
     * @param rule   {@code phm_rule [n, n, n]}, usually shared with other layers
     * @param wLeft  {@code W_left [n, in/n, rank]}
     * @param wRight {@code W_right [n, rank, out/n]}
     * @param bias   {@code b [out]}
     * @throws IllegalArgumentException naming the tensors when their shapes do not fit together
     */
    public PhmLayer(Parameter rule, Parameter wLeft, Parameter wRight, Parameter bias) {
        long[] rs = rule.shape();
        long[] ls = wLeft.shape();
        long[] ws = wRight.shape();
        long[] bs = bias.shape();
        boolean fits = rs.length == 3 && rs[0] == rs[1] && rs[1] == rs[2] && ls.length == 3 && ws.length == 3
                && bs.length == 1 && ls[0] == rs[0] && ws[0] == rs[0] && ls[2] == ws[1] && bs[0] == ws[0] * ws[2];
        if (!fits) {
            throw new IllegalArgumentException("PHM layer tensors do not fit: " + rule + ", " + wLeft + ", " + wRight
                    + ", " + bias + " (expected phm_rule [n, n, n], W_left [n, in/n, rank], W_right [n, rank, out/n],"
                    + " b [out])");
        }
        this.rule = rule;
        this.wLeft = wLeft;
        this.wRight = wRight;
        this.bias = bias;
        this.n = (int) rs[0];
        this.rank = (int) ls[2];
        this.in = (int) (ls[0] * ls[1]);
        this.out = (int) bs[0];
    }

    /** Input features. */
    public int in() {
        return in;
    }

    /** Output features. */
    public int out() {
        return out;
    }

    /** The tensors: {@code phm_rule}, {@code W_left}, {@code W_right}, {@code b}. */
    public List<Parameter> parameters() {
        return List.of(rule, wLeft, wRight, bias);
    }

    /** {@code H [in, out] = Σ_i kron(A_i, W_left_i·W_right_i)}, freshly computed from the factors. */
    public float[] weight() {
        int p = in / n;
        int q = out / n;
        float[] a = rule.data();
        float[] h = new float[in * out];
        for (int i = 0; i < n; i++) {
            float[] w = factorProduct(i);
            for (int ra = 0; ra < n; ra++) {
                for (int rc = 0; rc < n; rc++) {
                    float coeff = a[(i * n + ra) * n + rc];
                    for (int k = 0; k < p; k++) {
                        int row = (ra * p + k) * out + rc * q;
                        for (int l = 0; l < q; l++) {
                            h[row + l] += coeff * w[k * q + l];
                        }
                    }
                }
            }
        }
        return h;
    }

    /** Writes {@code y [m, out] = x [m, in]·H + b}. */
    public void forward(float[] x, int m, float[] y) {
        MatMulNN.matmul(x, 0, m, in, weight(), 0, out, y, 0);
        Ops.addBias(y, m, bias.data());
    }

    /**
     * From {@code dy [m, out]} and the saved input {@code x [m, in]}, accumulates the gradients of all four
     * tensors and, when {@code dx} is not null, writes {@code dx [m, in] = dy·Hᵀ}.
     */
    public void backward(float[] dy, float[] x, int m, float[] dx) {
        float[] h = weight();
        if (dx != null) {
            MatMulNN.matmul(dy, 0, m, out, transpose(h, in, out), 0, in, dx, 0);
        }
        float[] db = bias.grad();
        for (int r = 0; r < m; r++) {
            for (int j = 0; j < out; j++) {
                db[j] += dy[r * out + j];
            }
        }
        // dH [in, out] = xᵀ·dY
        float[] dh = new float[in * out];
        MatMulNN.matmul(transpose(x, m, in), 0, in, m, dy, 0, out, dh, 0);
        factorGradients(dh);
    }

    /** Chain rule from {@code dH} to the rule and the factors of each {@code W_i}. */
    private void factorGradients(float[] dh) {
        int p = in / n;
        int q = out / n;
        float[] a = rule.data();
        float[] da = rule.grad();
        float[] left = wLeft.data();
        float[] right = wRight.data();
        float[] dLeft = wLeft.grad();
        float[] dRight = wRight.grad();
        for (int i = 0; i < n; i++) {
            float[] w = factorProduct(i);
            float[] dw = new float[p * q];
            for (int ra = 0; ra < n; ra++) {
                for (int rc = 0; rc < n; rc++) {
                    float coeff = a[(i * n + ra) * n + rc];
                    double dCoeff = 0;
                    for (int k = 0; k < p; k++) {
                        int row = (ra * p + k) * out + rc * q;
                        for (int l = 0; l < q; l++) {
                            float g = dh[row + l];
                            dCoeff += g * w[k * q + l];
                            dw[k * q + l] += g * coeff;
                        }
                    }
                    da[(i * n + ra) * n + rc] += (float) dCoeff;
                }
            }
            // dW_left_i [p, rank] = dW_i·W_right_iᵀ ; dW_right_i [rank, q] = W_left_iᵀ·dW_i
            int lOff = i * p * rank;
            int rOff = i * rank * q;
            for (int k = 0; k < p; k++) {
                for (int s = 0; s < rank; s++) {
                    float sum = 0;
                    for (int l = 0; l < q; l++) {
                        sum += dw[k * q + l] * right[rOff + s * q + l];
                    }
                    dLeft[lOff + k * rank + s] += sum;
                }
            }
            for (int s = 0; s < rank; s++) {
                for (int l = 0; l < q; l++) {
                    float sum = 0;
                    for (int k = 0; k < p; k++) {
                        sum += left[lOff + k * rank + s] * dw[k * q + l];
                    }
                    dRight[rOff + s * q + l] += sum;
                }
            }
        }
    }

    /** {@code W_i [in/n, out/n] = W_left_i · W_right_i}. */
    private float[] factorProduct(int i) {
        int p = in / n;
        int q = out / n;
        float[] w = new float[p * q];
        MatMulNN.matmul(wLeft.data(), i * p * rank, p, rank, wRight.data(), i * rank * q, q, w, 0);
        return w;
    }

    private static float[] transpose(float[] src, int rows, int cols) {
        float[] t = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = src[r * cols + c];
            }
        }
        return t;
    }
}
