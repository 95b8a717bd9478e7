package dev.tailor.train.nn;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The vectorized SwiGLU backward against its scalar twin, tails included. */
class SwiGluTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 17, 64, 1023})
    void backwardMatchesScalarTwin(int len) {
        SplittableRandom rnd = new SplittableRandom(len);
        float[] gate = new float[len];
        float[] up = new float[len];
        float[] dh = new float[len];
        for (int i = 0; i < len; i++) {
            gate[i] = (float) rnd.nextDouble(-12, 12);
            up[i] = (float) rnd.nextDouble(-2, 2);
            dh[i] = (float) rnd.nextDouble(-1, 1);
        }
        float[] dGate = new float[len];
        float[] dUp = new float[len];
        SwiGlu.backward(gate, up, dh, dGate, dUp, len);
        float[] sGate = new float[len];
        float[] sUp = new float[len];
        for (int i = 0; i < len; i++) {
            SwiGlu.backwardScalar(gate, up, dh, sGate, sUp, i);
        }
        for (int i = 0; i < len; i++) {
            assertEquals(sGate[i], dGate[i], 1e-5 * Math.max(1, Math.abs(sGate[i])), "dGate " + i);
            assertEquals(sUp[i], dUp[i], 1e-5 * Math.max(1, Math.abs(sUp[i])), "dUp " + i);
        }
    }
}
