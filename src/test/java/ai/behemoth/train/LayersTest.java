package ai.behemoth.train;

import ai.behemoth.tensor.VectorMath;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** RMSNorm, RoPE, the vector exp and sigmoid, and cross-entropy, each against a double-precision definition and finite differences. */
class LayersTest {
    private static final SplittableRandom RANDOM = new SplittableRandom(11);

    private static float[] gaussian(int n, double mean, double std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (mean + std * RANDOM.nextGaussian());
        return x;
    }

    private static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }

    /** Central differences of {@code f} at {@code x} (h = 1e-4, in double). */
    private static double[] numericGradient(double[] x, ToDoubleFunction<double[]> f) {
        double[] grad = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double saved = x[i];
            x[i] = saved + 1e-4;
            double up = f.applyAsDouble(x);
            x[i] = saved - 1e-4;
            double down = f.applyAsDouble(x);
            x[i] = saved;
            grad[i] = (up - down) / 2e-4;
        }
        return grad;
    }

    private static void assertClose(float[] actual, double[] expected, double relative) {
        double errSq = 0, normSq = 0;
        for (int i = 0; i < expected.length; i++) {
            errSq += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            normSq += expected[i] * expected[i];
        }
        assertThat(normSq).isGreaterThan(0);
        assertThat(Math.sqrt(errSq / normSq)).isLessThan(relative);
    }

    /** Σ_rows Σ_j G·x·rsqrt(mean(x²)+eps)·w, in double. */
    private static double rmsLoss(double[] x, double[] w, float[] g, int n, int d, double eps) {
        double loss = 0;
        for (int r = 0; r < n; r++) {
            double ss = 0;
            for (int j = 0; j < d; j++) ss += x[r * d + j] * x[r * d + j];
            double rstd = 1 / Math.sqrt(ss / d + eps);
            for (int j = 0; j < d; j++) loss += g[r * d + j] * x[r * d + j] * rstd * (w == null ? 1 : w[j]);
        }
        return loss;
    }

    @Test
    void rmsNormWithWeightMatchesFiniteDifferences() {
        int n = 6, d = 40; // whole vectors and a scalar tail
        float eps = 1e-5f;
        float[] x = gaussian(n * d, 0.3, 1), w = gaussian(d, 1, 0.3), g = gaussian(n * d, 0, 1);
        float[] y = new float[n * d], rstd = new float[n], dx = gaussian(n * d, 0, 1), dw = new float[d];
        float[] dxBefore = dx.clone();
        RmsNorm.forward(y, x, w, 0, rstd, n, d, eps);
        RmsNorm.backward(dx, g, x, w, 0, rstd, dw, 0, n, d);
        for (int i = 0; i < dx.length; i++) dx[i] -= dxBefore[i]; // backward adds into dx

        double[] xd = toDouble(x), wd = toDouble(w);
        double base = rmsLoss(xd, wd, g, n, d, eps), forward = 0;
        for (int i = 0; i < y.length; i++) forward += g[i] * y[i];
        assertThat(forward).isCloseTo(base, within(1e-5 * Math.abs(base) + 1e-5));
        assertClose(dx, numericGradient(xd, v -> rmsLoss(v, wd, g, n, d, eps)), 1e-4);
        assertClose(dw, numericGradient(wd, v -> rmsLoss(xd, v, g, n, d, eps)), 1e-4);
    }

    @Test
    void weightlessRmsNormRowBackwardInPlace() {
        int d = 20;
        float eps = 1e-5f;
        float[] x = gaussian(d, 0, 2), g = gaussian(d, 0, 1), y = new float[d];
        float rstd = RmsNorm.forwardRow(y, 0, x, 0, null, 0, d, eps);
        float[] dx = g.clone();
        RmsNorm.backwardRow(dx, 0, dx, 0, x, 0, null, 0, rstd, d, false); // in place, as the QK norm does
        assertClose(dx, numericGradient(toDouble(x), v -> rmsLoss(v, null, g, 1, d, eps)), 1e-4);
    }

    @Test
    void ropeRotatesHalvesByPositionAndBackwardIsItsTranspose() {
        for (int hd : new int[]{8, 40}) { // a scalar tail only; whole vectors and a tail
            int seq = 6;
            double theta = 10000;
            Rope rope = new Rope(hd, theta, seq);
            for (int t = 0; t < seq; t++) {
                float[] x = gaussian(hd, 0, 1), rotated = x.clone();
                rope.forward(rotated, 0, t);
                for (int i = 0; i < hd / 2; i++) {
                    double angle = t * Math.pow(theta, -2.0 * i / hd);
                    assertThat((double) rotated[i]).isCloseTo(x[i] * Math.cos(angle) - x[i + hd / 2] * Math.sin(angle), within(1e-6));
                    assertThat((double) rotated[i + hd / 2]).isCloseTo(x[i] * Math.sin(angle) + x[i + hd / 2] * Math.cos(angle), within(1e-6));
                }
                // ⟨rope(x), g⟩ = ⟨x, ropeᵀ(g)⟩
                float[] g = gaussian(hd, 0, 1), back = g.clone();
                rope.backward(back, 0, t);
                double left = 0, right = 0;
                for (int i = 0; i < hd; i++) {
                    left += rotated[i] * g[i];
                    right += x[i] * back[i];
                }
                assertThat(left).isCloseTo(right, within(1e-5));
            }
        }
    }

    @Test
    void vectorExpIsWithinTwoUlpOfMathExpOverTheSoftmaxRange() {
        var species = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        float[] x = new float[species.length()], y = new float[species.length()];
        double worst = 0;
        for (int k = 0; k < 100_000; k++) {
            for (int i = 0; i < x.length; i++) x[i] = -87f * (k * x.length + i) / (100_000f * x.length);
            VectorMath.exp(jdk.incubator.vector.FloatVector.fromArray(species, x, 0)).intoArray(y, 0);
            for (int i = 0; i < x.length; i++) {
                double expected = Math.exp(x[i]);
                worst = Math.max(worst, Math.abs(y[i] - expected) / Math.ulp((float) expected));
            }
        }
        assertThat(worst).isLessThanOrEqualTo(2.0);
    }

    @Test
    void vectorSigmoidMatchesTheDefinitionOnBothSides() {
        var species = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        float[] x = new float[species.length()], y = new float[species.length()];
        for (int k = 0; k < 2_000; k++) {
            for (int i = 0; i < x.length; i++) x[i] = -100f + 200f * (k * x.length + i) / (2_000f * x.length);
            SwiGlu.sigmoid(jdk.incubator.vector.FloatVector.fromArray(species, x, 0)).intoArray(y, 0);
            for (int i = 0; i < x.length; i++) {
                double expected = 1 / (1 + Math.exp(-x[i]));
                assertThat((double) y[i]).as("sigmoid(" + x[i] + ")").isCloseTo(expected, within(3e-7 * expected + 1e-37));
            }
        }
    }

    @Test
    void crossEntropyMatchesDefinitionAndFiniteDifferences() {
        int n = 5, vocab = 9;
        float[] logits = gaussian(n * vocab, 0, 3), rowLoss = new float[n], dLogits = new float[n * vocab];
        int[] targets = {0, 8, 3, 3, 5};
        double loss = CrossEntropy.forward(logits, targets, dLogits, rowLoss, new float[n * CrossEntropy.LANES], n, vocab);
        CrossEntropy.backward(dLogits, targets, n, vocab);
        ToDoubleFunction<double[]> reference = z -> {
            double total = 0;
            for (int r = 0; r < n; r++) {
                double sum = 0;
                for (int j = 0; j < vocab; j++) sum += Math.exp(z[r * vocab + j]);
                total += Math.log(sum) - z[r * vocab + targets[r]];
            }
            return total / n;
        };
        double[] z = toDouble(logits);
        assertThat(loss).isCloseTo(reference.applyAsDouble(z), within(1e-5));
        assertClose(dLogits, numericGradient(z, reference), 1e-4);
    }
}
