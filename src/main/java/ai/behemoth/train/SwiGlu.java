package ai.behemoth.train;

import ai.behemoth.tensor.MatMul;
import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SwiGLU feed-forward math, shared by dense layers, routed experts and the shared expert:
 * {@code y = (silu(x·W1ᵀ) ⊙ x·W3ᵀ)·W2ᵀ}, with W1 (gate) and W3 (up) {@code [H, D]} and W2 (down)
 * {@code [D, H]}, all at offsets into one flat parameter buffer.
 *
 * <p>The activation runs on vectors with {@link VectorMath#exp} (a scalar {@code Math.exp} per
 * hidden unit cost as much as the three matrix products), in chunks spread over the threads (each
 * value is computed alone, so the bits do not depend on the split); a tail shorter than a vector is scalar.
 *
 * <p>Callers own the buffers: forward stores the gate and up pre-activations ({@code [n, H]}) that
 * backward needs, and backward uses {@code scratchA}, {@code scratchB} ({@code [n, H]}) as work space.
 */
public final class SwiGlu {
    private SwiGlu() {}

    /** Where one SwiGLU's three matrices live. */
    public record Weights(int w1, int w3, int w2, int dim, int hidden) {}

    /**
     * y[n, D] (+)= SwiGLU(x[n, D]); {@code gate}, {@code up} receive the pre-activations and
     * {@code act} the product silu(gate)·up, all {@code [n, H]} from their offsets.
     */
    public static void forward(float[] params, Weights w, float[] x, int xOff, int n,
                               float[] gate, float[] up, float[] act, int hOff,
                               float[] y, int yOff, boolean accumulate) {
        int d = w.dim(), h = w.hidden();
        MatMul.abT(gate, hOff, x, xOff, params, w.w1(), n, d, h, false);
        MatMul.abT(up, hOff, x, xOff, params, w.w3(), n, d, h, false);
        int end = hOff + n * h;
        Parallel.forRange(chunks(n * h), c -> {
            int i = hOff + c * CHUNK, stop = Math.min(end, i + CHUNK);
            for (; i + L <= stop; i += L) {
                FloatVector g = FloatVector.fromArray(F, gate, i);
                g.mul(sigmoid(g)).mul(FloatVector.fromArray(F, up, i)).intoArray(act, i);
            }
            for (; i < stop; i++) act[i] = silu(gate[i]) * up[i];
        });
        MatMul.abT(y, yOff, act, hOff, params, w.w2(), n, h, d, accumulate);
    }

    /**
     * Given dy[n, D], accumulates the three weight gradients into {@code grads} and writes (or adds,
     * with {@code accumulate}) dx[n, D]. Uses the buffers forward filled; overwrites {@code act}.
     */
    public static void backward(float[] params, float[] grads, Weights w, float[] x, int xOff, int n,
                                float[] gate, float[] up, float[] act, int hOff,
                                float[] dy, int dyOff, float[] dx, int dxOff, boolean accumulate,
                                float[] dGate, float[] dUp) {
        int d = w.dim(), h = w.hidden();
        // dW2 += dyᵀ · act ; dAct = dy · W2
        MatMul.aTb(grads, w.w2(), dy, dyOff, act, hOff, d, n, h, true);
        MatMul.ab(act, hOff, dy, dyOff, params, w.w2(), n, d, h, false);
        int end = hOff + n * h;
        Parallel.forRange(chunks(n * h), c -> {
            int i = hOff + c * CHUNK, stop = Math.min(end, i + CHUNK);
            for (; i + L <= stop; i += L) {
                FloatVector g = FloatVector.fromArray(F, gate, i), s = sigmoid(g), dAct = FloatVector.fromArray(F, act, i);
                dAct.mul(g).mul(s).intoArray(dUp, i);
                dAct.mul(FloatVector.fromArray(F, up, i)).mul(s).mul(g.mul(s.neg().add(1f)).add(1f)).intoArray(dGate, i);
            }
            for (; i < stop; i++) {
                float g = gate[i], s = sigmoid(g), dAct = act[i];
                dUp[i] = dAct * g * s;
                dGate[i] = dAct * up[i] * s * (1f + g * (1f - s));
            }
        });
        MatMul.aTb(grads, w.w1(), dGate, hOff, x, xOff, h, n, d, true);
        MatMul.aTb(grads, w.w3(), dUp, hOff, x, xOff, h, n, d, true);
        MatMul.ab(dx, dxOff, dGate, hOff, params, w.w1(), n, h, d, accumulate);
        MatMul.ab(dx, dxOff, dUp, hOff, params, w.w3(), n, h, d, true);
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Hidden values per parallel task of the activation loops (a multiple of any vector length). */
    private static final int CHUNK = 8192;

    private static int chunks(int size) {
        return (size + CHUNK - 1) / CHUNK;
    }

    /** σ(g) = 1/(1 + e^−g), from e^−|g| so that the exponential never overflows. */
    public static FloatVector sigmoid(FloatVector g) {
        FloatVector e = VectorMath.exp(g.abs().neg()), positive = FloatVector.broadcast(F, 1f).div(e.add(1f));
        return positive.blend(e.mul(positive), g.lt(0f));
    }

    static float sigmoid(float v) {
        return 1f / (1f + (float) Math.exp(-v));
    }

    static float silu(float v) {
        return v * sigmoid(v);
    }
}
