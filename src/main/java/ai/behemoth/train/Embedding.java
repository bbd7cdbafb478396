package ai.behemoth.train;

/** Token embedding lookup: row {@code tokens[i]} of the table {@code [V, D]} becomes activation row {@code i}. */
final class Embedding {
    private Embedding() {}

    /** {@code out[i] = table[tokens[i]]} for {@code n} tokens. */
    static void forward(float[] out, float[] params, int tableOff, int[] tokens, int n, int d) {
        for (int i = 0; i < n; i++) System.arraycopy(params, tableOff + tokens[i] * d, out, i * d, d);
    }

    /** {@code dTable[tokens[i]] += dOut[i]}, in token order (repeated tokens add deterministically). */
    static void backward(float[] grads, int tableOff, int[] tokens, float[] dOut, int n, int d) {
        for (int i = 0; i < n; i++) {
            int row = tableOff + tokens[i] * d;
            for (int j = 0; j < d; j++) grads[row + j] += dOut[i * d + j];
        }
    }
}
