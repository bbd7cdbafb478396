package ai.behemoth.train;

/**
 * Rotary position embedding, rotating halves (the Hugging Face convention): within one head of
 * width {@code hd}, the pair {@code (x[i], x[i + hd/2])} turns by the angle {@code t·θ^(-2i/hd)}
 * at position {@code t}. The cosines and sines are tabulated once for every position up to the
 * longest sequence.
 */
final class Rope {
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
        int c = t * half;
        for (int i = 0; i < half; i++) {
            float a = x[off + i], b = x[off + half + i], co = cos[c + i], si = sin[c + i];
            x[off + i] = a * co - b * si;
            x[off + half + i] = a * si + b * co;
        }
    }

    /** The gradient through {@link #forward}: the inverse rotation, in place. */
    void backward(float[] dx, int off, int t) {
        int c = t * half;
        for (int i = 0; i < half; i++) {
            float a = dx[off + i], b = dx[off + half + i], co = cos[c + i], si = sin[c + i];
            dx[off + i] = a * co + b * si;
            dx[off + half + i] = -a * si + b * co;
        }
    }
}
