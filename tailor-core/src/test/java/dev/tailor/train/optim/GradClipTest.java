package dev.tailor.train.optim;

import dev.tailor.tensor.Parameter;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GradClipTest {
    private static Parameter param(String name, float... grad) {
        Parameter p = new Parameter(name, new long[]{grad.length}, new float[grad.length]);
        System.arraycopy(grad, 0, p.grad(), 0, grad.length);
        return p;
    }

    @Test
    void scalesAllGradientsToTheMaxNormAndReturnsThePreClipNorm() {
        Parameter a = param("a", 3f, 0f);
        Parameter b = param("b", 0f, 4f, 12f);
        double norm = GradClip.clipGlobalNorm(List.of(a, b), 1.0);
        assertEquals(13.0, norm);
        float coef = (float) (1.0 / (13.0 + 1e-6));
        assertEquals(3f * coef, a.grad()[0], 1e-7f);
        assertEquals(12f * coef, b.grad()[2], 1e-7f);
        double after = Math.sqrt(GradClip.sumOfSquares(List.of(a, b)));
        assertEquals(1.0, after, 1e-6);
        assertTrue(after < 1.0);
    }

    @Test
    void leavesGradientsBelowTheMaxNormUntouched() {
        Parameter a = param("a", 0.3f, -0.4f);
        assertEquals(0.5, GradClip.clipGlobalNorm(List.of(a), 1.0), 1e-7);
        assertArrayEquals(new float[]{0.3f, -0.4f}, a.grad());
    }

    @Test
    void nonFiniteNormIsReportedAndGradientsKept() {
        Parameter a = param("a", Float.NaN, 1f);
        assertTrue(Double.isNaN(GradClip.clipGlobalNorm(List.of(a), 1.0)));
        assertEquals(1f, a.grad()[1]);
    }
}
