package ai.behemoth.train;

/**
 * A position-wise feed-forward block over {@code n} token rows of width {@code dim}: a dense
 * SwiGLU or a mixture of experts. Forward keeps what backward needs; backward overwrites
 * {@code dx} and accumulates parameter gradients into the model's flat gradient buffer.
 */
public interface FeedForward {
    void forward(float[] x, float[] out, int n);

    void backward(float[] dOut, float[] dx, int n);
}
