package dev.tailor.train.nn;

import dev.tailor.tensor.Ops;
import dev.tailor.tensor.Parallel;
import dev.tailor.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The SwiGLU activation {@code h = silu(g)·u}, {@code silu(g) = g·σ(g)}, and its backward (vectorized). */
final class SwiGlu {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private SwiGlu() {
    }

    static void forward(float[] gate, float[] up, float[] out, int len) {
        Ops.siluMul(gate, up, out, 0, len);
    }

    /** {@code du = dh·silu(g)}, {@code dg = dh·u·σ(g)·(1 + g·(1 − σ(g)))}. */
    static void backward(float[] gate, float[] up, float[] dh, float[] dGate, float[] dUp, int len) {
        Parallel.parallelForChunks(0, len, F.length(), (from, to) -> backward(gate, up, dh, dGate, dUp, from, to));
    }

    private static void backward(float[] gate, float[] up, float[] dh, float[] dGate, float[] dUp, int from, int to) {
        int bound = from + F.loopBound(to - from);
        int i = from;
        for (; i < bound; i += F.length()) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            FloatVector d = FloatVector.fromArray(F, dh, i);
            FloatVector s = FloatVector.broadcast(F, 1f).div(VectorMath.exp(g.neg()).add(1f));
            d.mul(g).mul(s).intoArray(dUp, i);
            FloatVector oneMinusS = s.neg().add(1f);
            d.mul(FloatVector.fromArray(F, up, i)).mul(s).mul(g.mul(oneMinusS).add(1f)).intoArray(dGate, i);
        }
        for (; i < to; i++) {
            backwardScalar(gate, up, dh, dGate, dUp, i);
        }
    }

    /** The scalar twin of one element of {@link #backward}. */
    static void backwardScalar(float[] gate, float[] up, float[] dh, float[] dGate, float[] dUp, int i) {
        float g = gate[i];
        float s = 1f / (1f + (float) Math.exp(-g));
        dUp[i] = dh[i] * g * s;
        dGate[i] = dh[i] * up[i] * s * (1f + g * (1f - s));
    }
}
