package ai.behemoth.train;

import ai.behemoth.tensor.Parallel;

import java.util.ArrayList;
import java.util.List;

/**
 * AdamW (Loshchilov and Hutter) over one flat parameter buffer, as PyTorch's {@code torch.optim.AdamW}
 * computes it: weight decay is decoupled ({@code p -= lr·wd·p}, before the Adam update) and applies
 * only to entries whose {@link ParameterLayout.Entry#decay()} is set (matrices and embeddings, not
 * norm weights); the moments are bias-corrected.
 *
 * <p>The buffer is cut into fixed chunks that never straddle two entries; each chunk is updated by
 * one thread and the gradient norm is summed chunk by chunk in a fixed order, so the result does not
 * depend on the thread count.
 */
public final class AdamW {
    /** Denominator guard, PyTorch's default. */
    public static final double EPS = 1e-8;
    private static final int CHUNK = 1 << 15;

    private record Chunk(int start, int end, boolean decay) {}

    private final double beta1, beta2, weightDecay;
    private final float[] m, v;
    private final List<Chunk> chunks = new ArrayList<>();

    public AdamW(ParameterLayout layout, double beta1, double beta2, double weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("--beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("--beta2 must be in [0, 1), got " + beta2);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("--weight-decay must not be negative, got " + weightDecay);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.weightDecay = weightDecay;
        this.m = new float[layout.size()];
        this.v = new float[layout.size()];
        for (ParameterLayout.Entry e : layout.entries()) {
            for (int s = e.offset(), end = e.offset() + e.size(); s < end; s += CHUNK)
                chunks.add(new Chunk(s, Math.min(end, s + CHUNK), e.decay()));
        }
    }

    /** First moments (live; same layout as the parameters). */
    public float[] m() {
        return m;
    }

    /** Second moments (live; same layout as the parameters). */
    public float[] v() {
        return v;
    }

    /**
     * The L2 norm of the whole gradient, accumulated in double. Each chunk is summed in four
     * interleaved partial sums (elements j ≡ 0, 1, 2, 3 mod 4 from the chunk's start), so that four
     * additions are in flight instead of one chain of dependent ones; the order is still fixed.
     */
    public double gradNorm(float[] grads) {
        double[] partial = new double[chunks.size()];
        Parallel.forRange(chunks.size(), i -> {
            Chunk c = chunks.get(i);
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int j = c.start();
            for (; j + 4 <= c.end(); j += 4) {
                double g0 = grads[j], g1 = grads[j + 1], g2 = grads[j + 2], g3 = grads[j + 3];
                s0 += g0 * g0;
                s1 += g1 * g1;
                s2 += g2 * g2;
                s3 += g3 * g3;
            }
            for (; j < c.end(); j++) s0 += (double) grads[j] * grads[j];
            partial[i] = (s0 + s1) + (s2 + s3);
        });
        double total = 0;
        for (double p : partial) total += p;
        return Math.sqrt(total);
    }

    /**
     * Scales the gradient so that its global norm is at most {@code maxNorm} (no change when it already
     * is, or when {@code maxNorm} is 0, which means no clipping). Returns the norm before clipping.
     */
    public double clip(float[] grads, double maxNorm) {
        double norm = gradNorm(grads);
        if (maxNorm > 0 && norm > maxNorm) {
            float scale = (float) (maxNorm / norm);
            Parallel.forRange(chunks.size(), i -> {
                Chunk c = chunks.get(i);
                for (int j = c.start(); j < c.end(); j++) grads[j] *= scale;
            });
        }
        return norm;
    }

    /** Optimizer step number {@code t} (1-based, for the bias correction) at learning rate {@code lr}. */
    public void step(float[] params, float[] grads, int t, double lr) {
        if (t < 1) throw new IllegalArgumentException("AdamW step numbers start at 1, got " + t);
        double correction1 = 1 - Math.pow(beta1, t), correction2 = 1 - Math.pow(beta2, t);
        double b1 = beta1, b2 = beta2;
        Parallel.forRange(chunks.size(), i -> {
            Chunk c = chunks.get(i);
            double decay = c.decay() ? 1 - lr * weightDecay : 1;
            for (int j = c.start(); j < c.end(); j++) {
                double g = grads[j];
                double mj = b1 * m[j] + (1 - b1) * g;
                double vj = b2 * v[j] + (1 - b2) * g * g;
                m[j] = (float) mj;
                v[j] = (float) vj;
                double mHat = mj / correction1, vHat = vj / correction2;
                params[j] = (float) (params[j] * decay - lr * mHat / (Math.sqrt(vHat) + EPS));
            }
        });
    }

    /** Restores the moments of a checkpoint. */
    public void load(float[] m, float[] v) {
        if (m.length != this.m.length || v.length != this.v.length)
            throw new IllegalArgumentException("optimizer state holds " + m.length + "/" + v.length
                    + " values, the model has " + this.m.length);
        System.arraycopy(m, 0, this.m, 0, m.length);
        System.arraycopy(v, 0, this.v, 0, v.length);
    }
}
