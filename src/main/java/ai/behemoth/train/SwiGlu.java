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
 * <p>Callers own the gate and up pre-activations ({@code [n, H]}), which forward stores and backward
 * reads. The rest lives in per-thread work buffers that every call reuses, so that they stay in
 * cache: the activation {@code silu(gate)·up} (forward's input to W2; backward computes it again, with
 * the same operations, for W2's gradient, in the same pass that reads gate and up for the activation
 * gradient) and the gate and up gradients. Stored per layer, these ran through memory on every step.
 */
public final class SwiGlu {
    private SwiGlu() {}

    /** Where one SwiGLU's three matrices live. */
    public record Weights(int w1, int w3, int w2, int dim, int hidden) {}

    /** One thread's activation and gradient buffers, grown on demand. */
    private static final class Work {
        float[] act = new float[0], dGate = act, dUp = act;

        Work ensure(int size) {
            if (act.length < size) {
                act = new float[size];
                dGate = new float[size];
                dUp = new float[size];
            }
            return this;
        }
    }

    private static final ThreadLocal<Work> WORK = ThreadLocal.withInitial(Work::new);

    /** y[n, D] (+)= SwiGLU(x[n, D]); {@code gate}, {@code up} receive the pre-activations, {@code [n, H]} from {@code hOff}. */
    public static void forward(float[] params, Weights w, float[] x, int xOff, int n,
                               float[] gate, float[] up, int hOff,
                               float[] y, int yOff, boolean accumulate) {
        int d = w.dim(), h = w.hidden(), size = n * h;
        float[] act = WORK.get().ensure(size).act;
        MatMul.abT(gate, hOff, x, xOff, params, w.w1(), n, d, h, false);
        MatMul.abT(up, hOff, x, xOff, params, w.w3(), n, d, h, false);
        Parallel.forRange(chunks(size), c -> {
            int i = c * CHUNK, stop = Math.min(size, i + CHUNK);
            for (; i + L <= stop; i += L) {
                FloatVector g = FloatVector.fromArray(F, gate, hOff + i);
                g.mul(sigmoid(g)).mul(FloatVector.fromArray(F, up, hOff + i)).intoArray(act, i);
            }
            for (; i < stop; i++) act[i] = silu(gate[hOff + i]) * up[hOff + i];
        });
        MatMul.abT(y, yOff, act, 0, params, w.w2(), n, h, d, accumulate);
    }

    /**
     * Given dy[n, D], accumulates the three weight gradients into {@code grads} and writes (or adds,
     * with {@code accumulate}) dx[n, D], from the pre-activations forward stored.
     */
    public static void backward(float[] params, float[] grads, Weights w, float[] x, int xOff, int n,
                                float[] gate, float[] up, int hOff,
                                float[] dy, int dyOff, float[] dx, int dxOff, boolean accumulate) {
        int d = w.dim(), h = w.hidden(), size = n * h;
        Work work = WORK.get().ensure(size);
        float[] act = work.act, dGate = work.dGate, dUp = work.dUp;
        // dAct = dy · W2, into dUp; the pass below reads each of its values before writing that place
        MatMul.ab(dUp, 0, dy, dyOff, params, w.w2(), n, d, h, false);
        // The chunks and the vector/scalar split are forward's, so act gets forward's bits.
        Parallel.forRange(chunks(size), c -> {
            int i = c * CHUNK, stop = Math.min(size, i + CHUNK);
            for (; i + L <= stop; i += L) {
                FloatVector g = FloatVector.fromArray(F, gate, hOff + i), s = sigmoid(g);
                FloatVector u = FloatVector.fromArray(F, up, hOff + i), dAct = FloatVector.fromArray(F, dUp, i);
                g.mul(s).mul(u).intoArray(act, i);
                dAct.mul(g).mul(s).intoArray(dUp, i);
                dAct.mul(u).mul(s).mul(g.mul(s.neg().add(1f)).add(1f)).intoArray(dGate, i);
            }
            for (; i < stop; i++) {
                float g = gate[hOff + i], s = sigmoid(g), u = up[hOff + i], dAct = dUp[i];
                act[i] = silu(g) * u;
                dUp[i] = dAct * g * s;
                dGate[i] = dAct * u * s * (1f + g * (1f - s));
            }
        });
        // dW2 += dyᵀ · act
        MatMul.aTb(grads, w.w2(), dy, dyOff, act, 0, d, n, h, true);
        MatMul.aTb(grads, w.w1(), dGate, 0, x, xOff, h, n, d, true);
        MatMul.aTb(grads, w.w3(), dUp, 0, x, xOff, h, n, d, true);
        MatMul.ab(dx, dxOff, dGate, 0, params, w.w1(), n, h, d, accumulate);
        MatMul.ab(dx, dxOff, dUp, 0, params, w.w3(), n, h, d, true);
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
