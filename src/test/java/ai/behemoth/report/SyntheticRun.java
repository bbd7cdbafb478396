package ai.behemoth.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A metrics.jsonl shaped like a real run's, with known features to look for: 2 MoE layers (0 and 2)
 * of 8 experts, evaluation every 20 steps, a config line, a loss spike and a skipped step at 70, a
 * rollback at 75 to step 60 (steps 61-75 then logged again), and a summary line.
 * In layer 2, expert {@link #DEAD} gets no tokens from step {@link #DEAD_FROM} on and expert
 * {@link #HOT} takes their share; layer 0 stays near balance.
 */
final class SyntheticRun {
    static final int STEPS = 120, EXPERTS = 8, DEAD = 5, HOT = 2, DEAD_FROM = 40;
    static final double FINAL_VAL_LOSS = 1.9123;

    private SyntheticRun() {}

    static List<String> lines() {
        ObjectMapper json = new ObjectMapper();
        Random random = new Random(7);
        List<String> lines = new ArrayList<>();
        lines.add("{\"event\":\"config\",\"model\":{\"preset\":\"tiny\",\"layers\":3,\"experts\":8,\"top_k\":2},\"lr\":0.001,\"batch\":16}");
        for (int step = 1; step <= 75; step++) lines.add(step(json, random, step, step == 70 ? 7.5 : 0).toString());
        lines.add("{\"step\":70,\"event\":\"spike\",\"reason\":\"loss_spike\",\"value\":9.1,\"zscore\":6.3}");
        lines.add("{\"step\":70,\"event\":\"skip\",\"reason\":\"loss_spike\",\"value\":9.1}");
        lines.add("{\"step\":75,\"event\":\"rollback\",\"to_step\":60,\"reason\":\"3 bad steps in 20\",\"lr_scale\":0.5}");
        for (int step = 61; step <= STEPS; step++) lines.add(step(json, random, step, 0).toString());
        lines.add("{\"event\":\"summary\",\"step\":120,\"tokens\":245760,\"flops\":1.79e12,\"mfu\":0.123,\"seconds\":61.5,"
                + "\"kwh\":0.0034,\"cost\":0.0021,\"skips\":1,\"rollbacks\":1}");
        return lines;
    }

    private static ObjectNode step(ObjectMapper json, Random random, int step, double spike) {
        ObjectNode o = json.createObjectNode();
        o.put("step", step);
        o.put("train_loss", 2.0 + 3.5 * Math.exp(-step / 25.0) + 0.05 * random.nextGaussian() + spike);
        if (step % 20 == 0) {
            double val = step == STEPS ? FINAL_VAL_LOSS : 2.05 + 3.3 * Math.exp(-step / 25.0);
            o.put("val_loss", val);
            o.put("val_bpb", val / Math.log(2));
        }
        o.put("lr", step <= 10 ? 1e-3 * step / 10 : 1e-4 + 0.9e-3 * 0.5 * (1 + Math.cos(Math.PI * (step - 10) / (STEPS - 10))));
        o.put("grad_norm", 0.6 + 2.0 * Math.exp(-step / 15.0) + 0.05 * random.nextDouble() + (spike > 0 ? 40 : 0));
        o.put("tokens_per_s", 4000 + 150 * random.nextGaussian());
        ArrayNode experts = o.putArray("experts");
        for (int layer : new int[]{0, 2}) {
            double[] load = new double[EXPERTS];
            double sum = 0;
            for (int e = 0; e < EXPERTS; e++) {
                load[e] = 1 + 0.08 * random.nextGaussian();
                if (layer == 2 && step >= DEAD_FROM) {
                    if (e == DEAD) load[e] = 0;
                    if (e == HOT) load[e] = 2.2;
                }
                sum += load[e];
            }
            ObjectNode l = experts.addObject();
            l.put("layer", layer);
            ArrayNode a = l.putArray("load");
            double max = 0;
            int dead = 0;
            for (double v : load) {
                a.add(v / sum);
                max = Math.max(max, v / sum);
                if (v == 0) dead++;
            }
            l.put("max_vio", (max - 1.0 / EXPERTS) * EXPERTS);
            l.put("dead", dead);
            l.put("entropy", 1.2 + 0.1 * random.nextDouble());
            l.put("aux", 1.0 + 0.1 * max);
            l.put("z", 0.5 + 0.1 * random.nextDouble());
        }
        return o;
    }

    static Path write(Path runDir) throws IOException {
        Files.createDirectories(runDir);
        return Files.write(runDir.resolve(RunReport.METRICS), lines());
    }

    /** Writes the synthetic run into the folder given, to look at its report by hand. */
    public static void main(String[] args) throws IOException {
        write(Path.of(args[0]));
    }
}
