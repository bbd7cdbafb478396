package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.ModelConfig.Router;
import ai.behemoth.model.ModelConfig.RouterWeight;
import ai.behemoth.tensor.Parallel;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Random;

/**
 * Micro-benchmark of one MoE block, forward + backward (not a test: run by hand).
 * Also times the same expert math with the routing taken out (E SwiGLU forward + backward on
 * pre-sorted equal blocks), so the dispatch overhead shows as the difference. Besides wall time it
 * reports the calling thread's CPU time, which on one thread is all the work and is less disturbed
 * by other processes sharing the cores.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes \
 *      ai.behemoth.train.MoeFfnBench [tokens] [dim] [experts] [topK] [expertHidden] [threads] [reps]
 * </pre>
 */
public final class MoeFfnBench {
    private MoeFfnBench() {}

    public static void main(String[] args) {
        int n = arg(args, 0, 2048), dim = arg(args, 1, 128), experts = arg(args, 2, 8), topK = arg(args, 3, 2);
        int hidden = arg(args, 4, 256), threads = arg(args, 5, Parallel.threads()), reps = arg(args, 6, 7);
        Parallel.setThreads(threads);
        ModelConfig config = MoeFixtures.config(dim, experts, topK, hidden, 0, Router.SOFTMAX, RouterWeight.OUTPUT, true);
        ParameterLayout layout = new ParameterLayout(config);
        Random random = new Random(1);
        float[] params = MoeFixtures.gaussian(random, layout.size(), 0.02);
        float[] grads = new float[layout.size()];
        float[] x = MoeFixtures.gaussian(random, n * dim, 1), dOut = MoeFixtures.gaussian(random, n * dim, 1);
        float[] out = new float[n * dim], dx = new float[n * dim];
        MoeFfn moe = new MoeFfn(config, layout, 0, new Balance(Balance.Mode.AUX, 0.01, 0.001, 0), params, grads, n);

        int rows = n * topK, block = rows / experts;
        float[] in = MoeFixtures.gaussian(random, rows * dim, 1), y = new float[rows * dim], dIn = new float[rows * dim];
        float[] gate = new float[rows * hidden], up = new float[rows * hidden];
        String p = "layers.0.feed_forward.experts.";
        int w1 = layout.get(p + "w1").offset(), w3 = layout.get(p + "w3").offset(), w2 = layout.get(p + "w2").offset();

        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        double[] moeMs = new double[reps], fwdMs = new double[reps], expertsMs = new double[reps];
        double[] moeCpuMs = new double[reps], expertsCpuMs = new double[reps];
        for (int rep = -2; rep < reps; rep++) {
            long c0 = cpu.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            moe.forward(x, out, n);
            long t1 = System.nanoTime();
            moe.backward(dOut, dx, n);
            long t2 = System.nanoTime();
            long c2 = cpu.getCurrentThreadCpuTime();
            for (int e = 0; e < experts; e++) {
                int m = e * hidden * dim;
                SwiGlu.Weights w = new SwiGlu.Weights(w1 + m, w3 + m, w2 + m, dim, hidden);
                SwiGlu.forward(params, w, in, e * block * dim, block, gate, up, e * block * hidden, y, e * block * dim, false);
                SwiGlu.backward(params, grads, w, in, e * block * dim, block, gate, up, e * block * hidden,
                        y, e * block * dim, dIn, e * block * dim, false);
            }
            long t3 = System.nanoTime();
            long c3 = cpu.getCurrentThreadCpuTime();
            if (rep < 0) continue;
            moeCpuMs[rep] = (c2 - c0) / 1e6;
            expertsCpuMs[rep] = (c3 - c2) / 1e6;
            fwdMs[rep] = (t1 - t0) / 1e6;
            moeMs[rep] = (t2 - t0) / 1e6;
            expertsMs[rep] = (t3 - t2) / 1e6;
        }
        double flops = 3.0 * 6 * rows * dim * hidden; // 3 matrices, 2 flops/MAC forward, 4 backward
        System.out.printf("MoE fwd+bwd n=%d D=%d E=%d k=%d He=%d threads=%d: median %.1f ms (forward %.1f ms), %.2f GFLOP/s;"
                        + " experts alone %.1f ms; calling-thread CPU: MoE %.1f ms, experts alone %.1f ms%n",
                n, dim, experts, topK, hidden, threads, median(moeMs), median(fwdMs), flops / median(moeMs) / 1e6,
                median(expertsMs), median(moeCpuMs), median(expertsCpuMs));
    }

    private static int arg(String[] args, int i, int fallback) {
        return args.length > i ? Integer.parseInt(args[i]) : fallback;
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
