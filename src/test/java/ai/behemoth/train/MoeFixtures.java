package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.ModelConfig.QkNorm;
import ai.behemoth.model.ModelConfig.Router;
import ai.behemoth.model.ModelConfig.RouterWeight;

import java.util.Random;

/** Small one-layer MoE models and random data for the MoE tests. */
final class MoeFixtures {
    private MoeFixtures() {}

    /** One MoE layer (layer 0) of width {@code dim}; attention shapes are irrelevant to the block. */
    static ModelConfig config(int dim, int experts, int topK, int expertHidden, int sharedHidden,
                              Router router, RouterWeight weight, boolean renorm) {
        return new ModelConfig(4, dim, 1, 2, 2, dim / 2, 16, 10000, 1e-5, 0, experts, topK, expertHidden,
                sharedHidden, 1, router, weight, renorm, 0, QkNorm.NONE, false, 0.02).validate();
    }

    static float[] gaussian(Random random, int size, double std) {
        float[] a = new float[size];
        for (int i = 0; i < size; i++) a[i] = (float) (random.nextGaussian() * std);
        return a;
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}
