package ai.behemoth.train;

/**
 * A dense SwiGLU feed-forward layer over the flat parameter buffer. Forward keeps a reference to
 * its input and the pre-activations in its own buffers, which backward uses.
 */
final class DenseFfn implements FeedForward {
    private final float[] params, grads;
    private final SwiGlu.Weights weights;
    private final float[] gate, up; // [maxTokens, hidden]
    private float[] input;

    DenseFfn(float[] params, float[] grads, SwiGlu.Weights weights, int maxTokens) {
        this.params = params;
        this.grads = grads;
        this.weights = weights;
        int size = maxTokens * weights.hidden();
        this.gate = new float[size];
        this.up = new float[size];
    }

    @Override
    public void forward(float[] x, float[] out, int n) {
        input = x;
        SwiGlu.forward(params, weights, x, 0, n, gate, up, 0, out, 0, false);
    }

    @Override
    public void backward(float[] dOut, float[] dx, int n) {
        SwiGlu.backward(params, grads, weights, input, 0, n, gate, up, 0, dOut, 0, dx, 0, false);
    }
}
