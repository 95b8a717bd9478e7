package dev.tailor.train.nn;

import dev.tailor.tensor.Ops;

/** The SwiGLU activation {@code h = silu(g)·u}, {@code silu(g) = g·σ(g)}, and its backward. */
final class SwiGlu {
    private SwiGlu() {
    }

    static void forward(float[] gate, float[] up, float[] out, int len) {
        Ops.siluMul(gate, up, out, 0, len);
    }

    /** {@code du = dh·silu(g)}, {@code dg = dh·u·σ(g)·(1 + g·(1 − σ(g)))}. */
    static void backward(float[] gate, float[] up, float[] dh, float[] dGate, float[] dUp, int len) {
        for (int i = 0; i < len; i++) {
            float g = gate[i];
            float s = 1f / (1f + (float) Math.exp(-g));
            dUp[i] = dh[i] * g * s;
            dGate[i] = dh[i] * up[i] * s * (1f + g * (1f - s));
        }
    }
}
