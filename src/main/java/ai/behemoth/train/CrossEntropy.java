package ai.behemoth.train;

import ai.behemoth.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Mean cross-entropy of logits {@code [n, V]} against target ids. Forward keeps the softmax
 * probabilities, which backward turns into the gradient in place (once per forward).
 */
final class CrossEntropy {
    private CrossEntropy() {}

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Floats of the {@code lanes} scratch that {@link #forward} needs per row. */
    static final int LANES = L;

    /**
     * Fills {@code probs[n, V]} with the softmax and {@code rowLoss[n]} with each row's loss (rows in
     * parallel) and returns the mean, summed in row order in double so that it does not depend on
     * the thread count. {@code lanes[n·LANES]} is scratch for each row's vector of partial sums.
     */
    static double forward(float[] logits, int[] targets, float[] probs, float[] rowLoss, float[] lanes, int n, int vocab) {
        Rows.forEach(n, r -> {
            int off = r * vocab;
            FloatVector maxes = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int j = 0; j < vocab; j += L) {
                VectorMask<Float> m = F.indexInRange(j, vocab);
                maxes = maxes.lanewise(VectorOperators.MAX, FloatVector.fromArray(F, logits, off + j, m).blend(Float.NEGATIVE_INFINITY, m.not()));
            }
            float max = maxes.reduceLanes(VectorOperators.MAX); // exact in any order
            FloatVector sums = FloatVector.zero(F);
            for (int j = 0; j < vocab; j += L) {
                VectorMask<Float> m = F.indexInRange(j, vocab);
                FloatVector e = VectorMath.exp(FloatVector.fromArray(F, logits, off + j, m).sub(max)).blend(0f, m.not());
                sums = sums.add(e);
                e.intoArray(probs, off + j, m);
            }
            sums.intoArray(lanes, r * L); // summed from an array: a call taking the vector, left in place after exp, allocated it
            float sum = VectorMath.sumLanes(lanes, r * L, L);
            float inv = 1f / sum;
            for (int j = 0; j < vocab; j += L) {
                VectorMask<Float> m = F.indexInRange(j, vocab);
                FloatVector.fromArray(F, probs, off + j, m).mul(inv).intoArray(probs, off + j, m);
            }
            rowLoss[r] = max + (float) Math.log(sum) - logits[off + targets[r]];
        });
        double total = 0;
        for (int r = 0; r < n; r++) total += rowLoss[r];
        return total / n;
    }

    /** Turns {@code probs} into {@code dLogits = (softmax − onehot(target)) / n}, the gradient of the mean loss. */
    static void backward(float[] probs, int[] targets, int n, int vocab) {
        float scale = 1f / n;
        Rows.forEach(n, r -> {
            int off = r * vocab;
            for (int j = 0; j < vocab; j += L) {
                VectorMask<Float> m = F.indexInRange(j, vocab);
                FloatVector.fromArray(F, probs, off + j, m).mul(scale).intoArray(probs, off + j, m);
            }
            probs[off + targets[r]] -= scale;
        });
    }
}
