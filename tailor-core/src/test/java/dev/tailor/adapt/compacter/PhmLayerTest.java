package dev.tailor.adapt.compacter;

import dev.tailor.tensor.Parameter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The PHM layer against a naive scalar twin written from the definition ({@code H = Σ_i kron(A_i, W_left_i·W_right_i)},
 * {@code y = x·H + b}), and its backward against central differences of {@code L = Σ y·G}, on awkward sizes.
 */
class PhmLayerTest {

    /** Naive Kronecker product of {@code a [ra, ca]} and {@code b [rb, cb]}: {@code K[i·rb + k, j·cb + l] = a[i,j]·b[k,l]}. */
    static double[][] kron(double[][] a, double[][] b) {
        int rb = b.length;
        int cb = b[0].length;
        double[][] k = new double[a.length * rb][a[0].length * cb];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                for (int r = 0; r < rb; r++) {
                    for (int c = 0; c < cb; c++) {
                        k[i * rb + r][j * cb + c] = a[i][j] * b[r][c];
                    }
                }
            }
        }
        return k;
    }

    /** The naive twin of {@link PhmLayer#weight()}, in double. */
    static double[][] naiveWeight(int n, int in, int out, int rank, float[] rule, float[] left, float[] right) {
        int p = in / n;
        int q = out / n;
        double[][] h = new double[in][out];
        for (int i = 0; i < n; i++) {
            double[][] a = new double[n][n];
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < n; c++) {
                    a[r][c] = rule[i * n * n + r * n + c];
                }
            }
            double[][] w = new double[p][q];
            for (int k = 0; k < p; k++) {
                for (int l = 0; l < q; l++) {
                    for (int s = 0; s < rank; s++) {
                        w[k][l] += (double) left[(i * p + k) * rank + s] * right[(i * rank + s) * q + l];
                    }
                }
            }
            double[][] term = kron(a, w);
            for (int r = 0; r < in; r++) {
                for (int c = 0; c < out; c++) {
                    h[r][c] += term[r][c];
                }
            }
        }
        return h;
    }

    static Parameter random(String name, SplittableRandom rnd, long... shape) {
        int size = 1;
        for (long d : shape) {
            size *= (int) d;
        }
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = (float) rnd.nextDouble(-1, 1);
        }
        return new Parameter(name, shape, v);
    }

    static PhmLayer layer(int n, int in, int out, int rank, SplittableRandom rnd) {
        return new PhmLayer(random("phm_rule", rnd, n, n, n), random("W_left", rnd, n, in / n, rank),
                random("W_right", rnd, n, rank, out / n), random("b", rnd, out));
    }

    @ParameterizedTest
    @CsvSource({"1, 7, 3, 1", "2, 6, 2, 1", "3, 9, 21, 2", "4, 64, 4, 1", "4, 4, 64, 3", "4, 68, 36, 2"})
    void weightAndForwardMatchTheNaiveTwin(int n, int in, int out, int rank) {
        SplittableRandom rnd = new SplittableRandom(n * 1000L + in * 10L + out);
        PhmLayer layer = layer(n, in, out, rank, rnd);
        float[] rule = layer.parameters().get(0).data();
        float[] left = layer.parameters().get(1).data();
        float[] right = layer.parameters().get(2).data();
        float[] b = layer.parameters().get(3).data();
        double[][] expected = naiveWeight(n, in, out, rank, rule, left, right);
        float[] h = layer.weight();
        for (int r = 0; r < in; r++) {
            for (int c = 0; c < out; c++) {
                assertEquals(expected[r][c], h[r * out + c], 1e-5 * (1 + Math.abs(expected[r][c])), "H[" + r + "," + c + "]");
            }
        }
        int m = 5;
        float[] x = random("x", rnd, m, in).data();
        float[] y = new float[m * out];
        layer.forward(x, m, y);
        for (int i = 0; i < m; i++) {
            for (int c = 0; c < out; c++) {
                double sum = b[c];
                for (int r = 0; r < in; r++) {
                    sum += x[i * in + r] * expected[r][c];
                }
                assertEquals(sum, y[i * out + c], 1e-4 * (1 + Math.abs(sum)), "y[" + i + "," + c + "]");
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"1, 7, 3, 1", "2, 6, 2, 1", "3, 9, 21, 2", "4, 16, 8, 1", "4, 8, 16, 2"})
    void backwardMatchesCentralDifferences(int n, int in, int out, int rank) {
        SplittableRandom rnd = new SplittableRandom(n * 7919L + in * 31L + out);
        PhmLayer layer = layer(n, in, out, rank, rnd);
        int m = 4;
        float[] x = random("x", rnd, m, in).data();
        float[] g = random("g", rnd, m, out).data();
        float[] dx = new float[m * in];
        layer.backward(g, x, m, dx);
        // L is linear in each single entry of every tensor (and of x), so central differences are exact up to rounding
        for (Parameter p : layer.parameters()) {
            for (int i = 0; i < p.size(); i++) {
                float saved = p.data()[i];
                p.data()[i] = saved + 0.5f;
                double plus = loss(layer, x, m, g);
                p.data()[i] = saved - 0.5f;
                double minus = loss(layer, x, m, g);
                p.data()[i] = saved;
                double numeric = plus - minus;
                assertEquals(numeric, p.grad()[i], 1e-4 * (1 + Math.abs(numeric)), p.name() + "[" + i + "]");
            }
        }
        for (int i = 0; i < x.length; i++) {
            float saved = x[i];
            x[i] = saved + 0.5f;
            double plus = loss(layer, x, m, g);
            x[i] = saved - 0.5f;
            double minus = loss(layer, x, m, g);
            x[i] = saved;
            assertEquals(plus - minus, dx[i], 1e-4 * (1 + Math.abs(plus - minus)), "dx[" + i + "]");
        }
    }

    private static double loss(PhmLayer layer, float[] x, int m, float[] g) {
        float[] y = new float[m * layer.out()];
        layer.forward(x, m, y);
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            sum += (double) y[i] * g[i];
        }
        return sum;
    }
}
