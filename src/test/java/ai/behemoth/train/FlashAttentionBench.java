package ai.behemoth.train;

import ai.behemoth.model.AttentionScope;
import ai.behemoth.tensor.Parallel;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Micro-benchmark of the training attention kernel alone, forward and backward of one layer (not a
 * test: run by hand). Defaults are the reference configuration's layer (batch 16, 4 heads of 32,
 * ctx 128) on one thread, full causal attention (or Llama 4's chunks of {@code chunk} tokens). Prints
 * the median calling-thread CPU time of each pass, their rate against the causal FLOP count, and a
 * hash of the bits of out, lse and dqkv, so that a change of the kernel can be checked for the same
 * bits before a training run.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes \
 *      ai.behemoth.train.FlashAttentionBench [batch] [seq] [heads] [kvHeads] [headDim] [threads] [reps] [chunk]
 * </pre>
 */
public final class FlashAttentionBench {
    private FlashAttentionBench() {}

    public static void main(String[] args) {
        int batch = arg(args, 0, 16), seq = arg(args, 1, 128), heads = arg(args, 2, 4), kvHeads = arg(args, 3, 4);
        int hd = arg(args, 4, 32), threads = arg(args, 5, 1), reps = arg(args, 6, 200), chunk = arg(args, 7, 0);
        Parallel.setThreads(threads);
        int stride = (heads + 2 * kvHeads) * hd, qDim = heads * hd, n = batch * seq;
        SplittableRandom random = new SplittableRandom(7);
        float[] qkv = new float[n * stride], dOut = new float[n * qDim];
        for (int i = 0; i < qkv.length; i++) qkv[i] = (float) random.nextGaussian();
        for (int i = 0; i < dOut.length; i++) dOut[i] = (float) (random.nextGaussian() * 1e-3);
        FlashAttention attention = new FlashAttention(heads, kvHeads, hd, seq);
        float[] lse = new float[attention.lseSize(batch)], out = new float[n * qDim], dqkv = new float[n * stride];
        AttentionScope scope = new AttentionScope(chunk, 0, 0);

        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        double[] fwdMs = new double[reps], bwdMs = new double[reps];
        for (int rep = -reps / 2; rep < reps; rep++) {
            long c0 = cpu.getCurrentThreadCpuTime();
            attention.forward(qkv, out, lse, batch, seq, scope);
            long c1 = cpu.getCurrentThreadCpuTime();
            attention.backward(dOut, qkv, out, lse, dqkv, batch, seq, scope);
            long c2 = cpu.getCurrentThreadCpuTime();
            if (rep < 0) continue;
            fwdMs[rep] = (c1 - c0) / 1e6;
            bwdMs[rep] = (c2 - c1) / 1e6;
        }
        // causal: each product covers about half of T×T×hd multiply-adds (fewer with chunks); forward 2 products, backward 5
        double product = (double) batch * heads * seq * (seq + 1) / 2 * hd * 2;
        double fwd = median(fwdMs), bwd = median(bwdMs);
        System.out.printf("attention B=%d T=%d H=%d KV=%d hd=%d chunk=%d threads=%d: forward %.3f ms (%.1f GFLOP/s), backward %.3f ms"
                        + " (%.1f GFLOP/s), calling-thread CPU; bits %08x%n", batch, seq, heads, kvHeads, hd, chunk, threads,
                fwd, 2 * product / fwd / 1e6, bwd, 5 * product / bwd / 1e6, hash(out) * 31 + hash(lse) * 17 + hash(dqkv));
    }

    private static int hash(float[] x) {
        int h = 1;
        for (float v : x) h = 31 * h + Float.floatToRawIntBits(v);
        return h;
    }

    private static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static int arg(String[] args, int i, int fallback) {
        return args.length > i ? Integer.parseInt(args[i]) : fallback;
    }
}
