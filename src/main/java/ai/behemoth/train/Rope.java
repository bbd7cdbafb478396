package ai.behemoth.train;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rotary position embedding, rotating halves (the Hugging Face convention): within one head of
 * width {@code hd}, the pair {@code (x[i], x[i + hd/2])} turns by the angle {@code t·θ^(-2i/hd)}
 * at position {@code t}. The cosines and sines are tabulated once for every position up to the
 * longest sequence.
 */
final class Rope {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private final int half;
    private final float[] cos, sin; // [maxSeq, hd/2]

    Rope(int headDim, double theta, int maxSeq) {
        this.half = headDim / 2;
        this.cos = new float[maxSeq * half];
        this.sin = new float[maxSeq * half];
        for (int t = 0; t < maxSeq; t++) {
            for (int i = 0; i < half; i++) {
                double angle = t * Math.pow(theta, -2.0 * i / headDim);
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /** Rotates the head at {@code x[off..off+hd)} in place to position {@code t}. */
    void forward(float[] x, int off, int t) {
        rotate(x, off, t, 1f);
    }

    /** The gradient through {@link #forward}: the inverse rotation, in place. */
    void backward(float[] dx, int off, int t) {
        rotate(dx, off, t, -1f);
    }

    /** (a, b) ← (a·cos − b·sin, a·sin + b·cos) with sin negated by {@code sign = −1}: whole vectors, then a scalar tail. */
    private void rotate(float[] x, int off, int t, float sign) {
        int c = t * half, whole = F.loopBound(half), i = 0;
        for (; i < whole; i += L) {
            FloatVector a = FloatVector.fromArray(F, x, off + i), b = FloatVector.fromArray(F, x, off + half + i);
            FloatVector co = FloatVector.fromArray(F, cos, c + i), si = FloatVector.fromArray(F, sin, c + i).mul(sign);
            a.mul(co).sub(b.mul(si)).intoArray(x, off + i);
            a.mul(si).add(b.mul(co)).intoArray(x, off + half + i);
        }
        for (; i < half; i++) {
            float a = x[off + i], b = x[off + half + i], co = cos[c + i], si = sign * sin[c + i];
            x[off + i] = a * co - b * si;
            x[off + half + i] = a * si + b * co;
        }
    }
}
