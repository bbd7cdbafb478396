package ai.behemoth.tensor;

/**
 * The plain-loop twin of {@link MatMul}: same signatures, same layouts, one dot product per output
 * element. The tests compare the Vector API kernels against it; it is too slow for anything else.
 */
public final class MatMulScalar {
    private MatMulScalar() {}

    /** out[M,N] (+)= a[M,K] · b[N,K]ᵀ */
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

    /** out[M,N] (+)= a[M,K] · b[K,N] */
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

    /** out[M,N] (+)= a[K,M]ᵀ · b[K,N] */
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
