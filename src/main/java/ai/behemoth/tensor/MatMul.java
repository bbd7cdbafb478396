package ai.behemoth.tensor;

/**
 * The three matrix products that training needs, on row-major float arrays with offsets.
 * Every output element is computed by one thread in a fixed order, so results do not depend on
 * the thread count. {@code accumulate} adds into {@code out} instead of overwriting it.
 *
 * <p>PLACEHOLDER implementation (plain loops); the Vector API kernels replace these bodies, and
 * the plain loops move to {@code MatMulScalar}, their twin in the tests.
 */
public final class MatMul {
    private MatMul() {}

    /** out[M,N] (+)= a[M,K] · b[N,K]ᵀ — a linear layer's forward (y = x·Wᵀ) and dx of attention scores. */
    public static void abT(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff,
                           int m, int k, int n, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) s += a[aOff + i * k + p] * b[bOff + j * k + p];
                int o = outOff + i * n + j;
                out[o] = accumulate ? out[o] + s : s;
            }
        }
    }

    /** out[M,N] (+)= a[M,K] · b[K,N] — a linear layer's input gradient (dx = dy·W). */
    public static void ab(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff,
                          int m, int k, int n, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) s += a[aOff + i * k + p] * b[bOff + p * n + j];
                int o = outOff + i * n + j;
                out[o] = accumulate ? out[o] + s : s;
            }
        }
    }

    /** out[M,N] (+)= a[K,M]ᵀ · b[K,N] — a linear layer's weight gradient (dW += dyᵀ·x). */
    public static void aTb(float[] out, int outOff, float[] a, int aOff, float[] b, int bOff,
                           int m, int k, int n, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) s += a[aOff + p * m + i] * b[bOff + p * n + j];
                int o = outOff + i * n + j;
                out[o] = accumulate ? out[o] + s : s;
            }
        }
    }
}
