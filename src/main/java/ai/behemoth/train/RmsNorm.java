package ai.behemoth.train;

import ai.behemoth.tensor.Parallel;

/**
 * RMSNorm over rows of width {@code d}: {@code y = x · rsqrt(mean(x²) + eps) · w}, with {@code w}
 * optional (weightless, as Llama 4's QK norm). Forward keeps the reciprocal RMS of each row for
 * backward. The row functions work on any row of any buffer (the QK norm normalises one head of a
 * fused q/k/v row at a time); the batch functions cover contiguous rows in parallel.
 */
final class RmsNorm {
    private RmsNorm() {}

    /** Normalises one row: {@code y[yOff..+d] = x[xOff..+d]·rstd·w}; returns rstd. {@code w == null} means weightless. */
    static float forwardRow(float[] y, int yOff, float[] x, int xOff, float[] w, int wOff, int d, float eps) {
        float ss = 0;
        for (int i = 0; i < d; i++) {
            float v = x[xOff + i];
            ss += v * v;
        }
        float rstd = (float) (1.0 / Math.sqrt(ss / d + eps));
        if (w == null) {
            for (int i = 0; i < d; i++) y[yOff + i] = x[xOff + i] * rstd;
        } else {
            for (int i = 0; i < d; i++) y[yOff + i] = x[xOff + i] * rstd * w[wOff + i];
        }
        return rstd;
    }

    /**
     * The input gradient of one row: {@code dx = rstd·(dy·w − x̂·mean(dy·w·x̂))}, x̂ = x·rstd; written
     * or, with {@code accumulate}, added. {@code dx} may be the same row as {@code dy}.
     */
    static void backwardRow(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff,
                            float[] w, int wOff, float rstd, int d, boolean accumulate) {
        float dot = 0;
        for (int i = 0; i < d; i++) {
            float dyw = w == null ? dy[dyOff + i] : dy[dyOff + i] * w[wOff + i];
            dot += dyw * x[xOff + i];
        }
        float meanDot = dot * rstd / d; // mean(dy·w·x̂)
        for (int i = 0; i < d; i++) {
            float dyw = w == null ? dy[dyOff + i] : dy[dyOff + i] * w[wOff + i];
            float g = rstd * (dyw - x[xOff + i] * rstd * meanDot);
            dx[dxOff + i] = accumulate ? dx[dxOff + i] + g : g;
        }
    }

    /** The weight gradient of one row: {@code dw += dy · x·rstd}. */
    static void weightGradRow(float[] dw, int dwOff, float[] dy, int dyOff, float[] x, int xOff, float rstd, int d) {
        for (int i = 0; i < d; i++) dw[dwOff + i] += dy[dyOff + i] * x[xOff + i] * rstd;
    }

    /** {@code y[n, d] = RMSNorm(x[n, d])·w}, rows in parallel; {@code rstd[n]} receives each row's reciprocal RMS. */
    static void forward(float[] y, float[] x, float[] w, int wOff, float[] rstd, int n, int d, float eps) {
        Parallel.forRange(n, r -> rstd[r] = forwardRow(y, r * d, x, r * d, w, wOff, d, eps));
    }

    /**
     * Adds the input gradient into {@code dx[n, d]} (rows in parallel) and the weight gradient into
     * {@code dw} (rows in order, so the sum is deterministic).
     */
    static void backward(float[] dx, float[] dy, float[] x, float[] w, int wOff, float[] rstd,
                         float[] dw, int dwOff, int n, int d) {
        Parallel.forRange(n, r -> backwardRow(dx, r * d, dy, r * d, x, r * d, w, wOff, rstd[r], d, true));
        for (int r = 0; r < n; r++) weightGradRow(dw, dwOff, dy, r * d, x, r * d, rstd[r], d);
    }
}
