package ai.behemoth.train;

import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * RMSNorm over rows of width {@code d}: {@code y = x · rsqrt(mean(x²) + eps) · w}, with {@code w}
 * optional (weightless, as Llama 4's QK norm). Forward keeps the reciprocal RMS of each row for
 * backward. The row functions work on any row of any buffer (the QK norm normalises one head of a
 * fused q/k/v row at a time); the batch functions cover contiguous rows in parallel.
 */
final class RmsNorm {
    private RmsNorm() {}

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    /** Normalises one row: {@code y[yOff..+d] = x[xOff..+d]·rstd·w}; returns rstd. {@code w == null} means weightless. */
    static float forwardRow(float[] y, int yOff, float[] x, int xOff, float[] w, int wOff, int d, float eps) {
        int whole = F.loopBound(d), i = 0;
        FloatVector squares = FloatVector.zero(F);
        for (; i < whole; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i);
            squares = v.fma(v, squares);
        }
        float ss = VectorMath.sumLanes(squares);
        for (; i < d; i++) ss += x[xOff + i] * x[xOff + i];
        float rstd = (float) (1.0 / Math.sqrt(ss / d + eps));
        for (i = 0; i < whole; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i).mul(rstd);
            if (w != null) v = v.mul(FloatVector.fromArray(F, w, wOff + i));
            v.intoArray(y, yOff + i);
        }
        for (; i < d; i++) y[yOff + i] = x[xOff + i] * rstd * (w == null ? 1f : w[wOff + i]);
        return rstd;
    }

    /**
     * The input gradient of one row: {@code dx = rstd·(dy·w − x̂·mean(dy·w·x̂))}, x̂ = x·rstd; written
     * or, with {@code accumulate}, added. {@code dx} may be the same row as {@code dy}.
     */
    static void backwardRow(float[] dx, int dxOff, float[] dy, int dyOff, float[] x, int xOff,
                            float[] w, int wOff, float rstd, int d, boolean accumulate) {
        int whole = F.loopBound(d), i = 0;
        FloatVector dots = FloatVector.zero(F);
        for (; i < whole; i += L) {
            FloatVector dyw = FloatVector.fromArray(F, dy, dyOff + i);
            if (w != null) dyw = dyw.mul(FloatVector.fromArray(F, w, wOff + i));
            dots = dyw.fma(FloatVector.fromArray(F, x, xOff + i), dots);
        }
        float dot = VectorMath.sumLanes(dots);
        for (; i < d; i++) dot += dy[dyOff + i] * (w == null ? 1f : w[wOff + i]) * x[xOff + i];
        float meanDot = dot * rstd / d; // mean(dy·w·x̂)
        float xScale = rstd * meanDot;
        for (i = 0; i < whole; i += L) {
            FloatVector dyw = FloatVector.fromArray(F, dy, dyOff + i);
            if (w != null) dyw = dyw.mul(FloatVector.fromArray(F, w, wOff + i));
            FloatVector g = dyw.sub(FloatVector.fromArray(F, x, xOff + i).mul(xScale)).mul(rstd);
            if (accumulate) g = g.add(FloatVector.fromArray(F, dx, dxOff + i));
            g.intoArray(dx, dxOff + i);
        }
        for (; i < d; i++) {
            float dyw = dy[dyOff + i] * (w == null ? 1f : w[wOff + i]);
            float g = rstd * (dyw - x[xOff + i] * xScale);
            dx[dxOff + i] = accumulate ? dx[dxOff + i] + g : g;
        }
    }

    /** The weight gradient of one row: {@code dw += dy · x·rstd}. */
    static void weightGradRow(float[] dw, int dwOff, float[] dy, int dyOff, float[] x, int xOff, float rstd, int d) {
        int whole = F.loopBound(d), i = 0;
        for (; i < whole; i += L) {
            FloatVector.fromArray(F, dy, dyOff + i).mul(FloatVector.fromArray(F, x, xOff + i)).mul(rstd)
                    .add(FloatVector.fromArray(F, dw, dwOff + i)).intoArray(dw, dwOff + i);
        }
        for (; i < d; i++) dw[dwOff + i] += dy[dyOff + i] * x[xOff + i] * rstd;
    }

    /** {@code y[n, d] = RMSNorm(x[n, d])·w}, rows in parallel; {@code rstd[n]} receives each row's reciprocal RMS. */
    static void forward(float[] y, float[] x, float[] w, int wOff, float[] rstd, int n, int d, float eps) {
        Rows.forEach(n, r -> rstd[r] = forwardRow(y, r * d, x, r * d, w, wOff, d, eps));
    }

    /**
     * Adds the input gradient into {@code dx[n, d]} (rows in parallel) and the weight gradient into
     * {@code dw} (blocks of columns in parallel, each summed over the rows in order, exactly as
     * {@link #weightGradRow} row after row: the sum is deterministic).
     */
    static void backward(float[] dx, float[] dy, float[] x, float[] w, int wOff, float[] rstd,
                         float[] dw, int dwOff, int n, int d) {
        Rows.forEach(n, r -> backwardRow(dx, r * d, dy, r * d, x, r * d, w, wOff, rstd[r], d, true));
        int whole = F.loopBound(d), columnBlock = 2 * L;
        Parallel.forRange((d + columnBlock - 1) / columnBlock, block -> {
            int from = block * columnBlock, to = Math.min(d, from + columnBlock);
            for (int r = 0; r < n; r++) {
                int row = r * d;
                float s = rstd[r];
                int i = from;
                for (; i < Math.min(to, whole); i += L) {
                    FloatVector.fromArray(F, dy, row + i).mul(FloatVector.fromArray(F, x, row + i)).mul(s)
                            .add(FloatVector.fromArray(F, dw, dwOff + i)).intoArray(dw, dwOff + i);
                }
                for (; i < to; i++) dw[dwOff + i] += dy[row + i] * x[row + i] * s;
            }
        });
    }
}
