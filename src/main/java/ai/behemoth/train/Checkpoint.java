package ai.behemoth.train;

import ai.behemoth.Version;
import ai.behemoth.format.Safetensors;
import ai.behemoth.model.ModelConfig;
import ai.behemoth.tokenizer.Tokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Stream;

/**
 * A training checkpoint: a folder holding {@code config.json}, {@code model.safetensors} (parameters
 * by their {@link ParameterLayout} names), {@code tokenizer.json}, and for resuming
 * {@code optimizer.safetensors} ({@code m.<name>}, {@code v.<name>}) and {@code trainer.json}
 * ({@link TrainerState}). A checkpoint is written into a temporary sibling folder and renamed into
 * place, so a crash never leaves a half-written one under the real name.
 */
public final class Checkpoint {
    private Checkpoint() {}

    public static final String CONFIG = "config.json", MODEL = "model.safetensors", TOKENIZER = "tokenizer.json",
            OPTIMIZER = "optimizer.safetensors", TRAINER = "trainer.json";
    /** The format tag of trainer.json; a different one is refused on resume. */
    public static final String FORMAT = "behemoth-trainer-1";
    private static final String STEP_PREFIX = "step-";

    /**
     * What {@code trainer.json} holds.
     *
     * @param step       optimizer steps completed
     * @param routerBias the aux-loss-free selection bias of each MoE layer, in layer order
     * @param guard      the stability guard's settings and memory (rolling windows, LR scale, counts)
     */
    public record TrainerState(String format, String version, int step, long seed, TrainOptions options,
                               float[][] routerBias, DataState data, Guard.State guard) {}

    /**
     * Where the data stream stands: batches are a pure function of (seed, step), so the cursor is the
     * next step; the sizes and digest identify the token streams the run was trained on. Optimizer step
     * {@code s} trains on the batch of data step {@code s + stepOffset}: each rollback of the stability
     * guard adds the span it undid, so the batches that caused it are not replayed.
     */
    public record DataState(String sampler, long seed, int nextStep, int stepOffset, int trainTokens, int valTokens,
                            long trainBytes, long valBytes, String sha256) {}

    /** A checkpoint read fully into memory and checked against its own config. */
    public record Loaded(Path dir, ModelConfig config, TrainerState state, float[] params, float[] m, float[] v) {
        /** The run folder this checkpoint belongs to ({@code RUN/checkpoints/step-N} or {@code RUN/final}). */
        public Path runDir() {
            Path parent = dir.toAbsolutePath().normalize().getParent();
            if (parent != null && parent.getFileName() != null && parent.getFileName().toString().equals("checkpoints"))
                return parent.getParent();
            return parent;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);

    /** Writes a checkpoint to {@code dir} (replacing one of that name) by way of a temporary folder. */
    public static void write(Path dir, ModelConfig config, ParameterLayout layout, Tokenizer tokenizer,
                             float[] params, float[] m, float[] v, TrainerState state) throws IOException {
        Path tmp = dir.resolveSibling("." + dir.getFileName() + ".tmp");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        Files.writeString(tmp.resolve(CONFIG), config.toJson());
        Map<String, Safetensors.Tensor> model = new LinkedHashMap<>(), moments = new LinkedHashMap<>();
        for (ParameterLayout.Entry e : layout.entries()) {
            model.put(e.name(), slice(params, e));
            moments.put("m." + e.name(), slice(m, e));
            moments.put("v." + e.name(), slice(v, e));
        }
        Map<String, String> meta = Map.of("format", "pt", "producer", "behemoth " + Version.get());
        Safetensors.write(tmp.resolve(MODEL), model, meta);
        Safetensors.write(tmp.resolve(OPTIMIZER), moments, meta);
        tokenizer.save(tmp.resolve(TOKENIZER));
        Files.write(tmp.resolve(TRAINER), JSON.writeValueAsBytes(state));
        if (Files.exists(dir)) {
            Path old = dir.resolveSibling("." + dir.getFileName() + ".old");
            deleteTree(old);
            Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            deleteTree(old);
        } else {
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static Safetensors.Tensor slice(float[] buffer, ParameterLayout.Entry e) {
        return new Safetensors.Tensor(e.shape(), Arrays.copyOfRange(buffer, e.offset(), e.offset() + e.size()));
    }

    /**
     * The checkpoint folder {@code path} names: a checkpoint itself (it holds trainer.json), or a run
     * folder, meaning its latest checkpoint ({@code final/} when present, else the highest step).
     */
    public static Path resolve(Path path) throws IOException {
        if (!Files.isDirectory(path)) throw new IOException(path + ": no such checkpoint or run folder");
        if (Files.exists(path.resolve(TRAINER))) return path;
        Path fin = path.resolve("final");
        if (Files.exists(fin.resolve(TRAINER))) return fin;
        List<Path> steps = checkpointsOf(path.resolve("checkpoints"));
        if (steps.isEmpty())
            throw new IOException(path + ": not a checkpoint (no " + TRAINER + ") and no checkpoints/step-N inside");
        return steps.getLast();
    }

    /** The {@code step-N} folders under {@code checkpoints}, by increasing N. */
    public static List<Path> checkpointsOf(Path checkpoints) throws IOException {
        if (!Files.isDirectory(checkpoints)) return List.of();
        try (Stream<Path> s = Files.list(checkpoints)) {
            return s.filter(p -> stepOf(p).isPresent() && Files.isDirectory(p))
                    .sorted(Comparator.comparingInt(p -> stepOf(p).getAsInt())).toList();
        }
    }

    private static OptionalInt stepOf(Path p) {
        String name = p.getFileName().toString();
        if (!name.startsWith(STEP_PREFIX)) return OptionalInt.empty();
        try {
            return OptionalInt.of(Integer.parseInt(name.substring(STEP_PREFIX.length())));
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
    }

    /** The folder of the checkpoint at {@code step} in a run folder. */
    public static Path stepDir(Path run, int step) {
        return run.resolve("checkpoints").resolve(STEP_PREFIX + step);
    }

    /** Deletes all but the {@code keep} highest {@code step-N} folders under {@code checkpoints}. */
    public static void keepLast(Path checkpoints, int keep) throws IOException {
        List<Path> all = checkpointsOf(checkpoints);
        for (int i = 0; i < all.size() - keep; i++) deleteTree(all.get(i));
    }

    /**
     * Reads and checks every file of the checkpoint in {@code dir}: all five present, the parameters
     * and both moments complete with the shapes config.json implies, and trainer.json consistent with
     * them. Throws an IOException naming the file and what is wrong.
     */
    public static Loaded read(Path dir) throws IOException {
        for (String f : List.of(CONFIG, MODEL, TOKENIZER, OPTIMIZER, TRAINER))
            if (!Files.isRegularFile(dir.resolve(f))) throw new IOException(dir.resolve(f) + ": missing from the checkpoint");
        ModelConfig config = ModelConfig.read(dir.resolve(CONFIG));
        ParameterLayout layout = new ParameterLayout(config);
        Path trainerFile = dir.resolve(TRAINER);
        TrainerState state;
        try {
            state = JSON.readValue(trainerFile.toFile(), TrainerState.class);
        } catch (MismatchedInputException e) {
            throw new IOException(trainerFile + ": " + describe(e), e);
        } catch (JsonProcessingException e) {
            throw new IOException(trainerFile + ": corrupt JSON: " + e.getOriginalMessage(), e);
        }
        if (!FORMAT.equals(state.format()))
            throw new IOException(trainerFile + ": format is " + state.format() + ", expected " + FORMAT);
        if (state.options() == null) throw new IOException(trainerFile + ": missing field options");
        if (state.data() == null) throw new IOException(trainerFile + ": missing field data");
        if (state.data().stepOffset() < 0)
            throw new IOException(trainerFile + ": data.step_offset must not be negative, got " + state.data().stepOffset());
        if (state.guard() == null) throw new IOException(trainerFile + ": missing field guard");
        Guard.State g = state.guard();
        if (g.options() == null || g.losses() == null || g.gradNorms() == null || g.badSteps() == null)
            throw new IOException(trainerFile + ": guard needs options, losses, grad_norms and bad_steps");
        try {
            g.options().validate();
        } catch (IllegalArgumentException e) {
            throw new IOException(trainerFile + ": guard.options: " + e.getMessage(), e);
        }
        try {
            state.options().validate();
        } catch (IllegalArgumentException e) {
            throw new IOException(trainerFile + ": options: " + e.getMessage(), e);
        }
        if (state.step() < 1 || state.step() > state.options().steps())
            throw new IOException(trainerFile + ": step " + state.step() + " is outside 1.." + state.options().steps());
        if (state.data().nextStep() != state.step() + 1)
            throw new IOException(trainerFile + ": data.next_step " + state.data().nextStep() + " does not follow step " + state.step());
        int moeLayers = 0;
        for (int i = 0; i < config.layers(); i++) if (config.isMoeLayer(i)) moeLayers++;
        if (state.routerBias() == null || state.routerBias().length != moeLayers)
            throw new IOException(trainerFile + ": router_bias has " + (state.routerBias() == null ? 0 : state.routerBias().length)
                    + " layers, config.json has " + moeLayers + " MoE layers");
        for (float[] b : state.routerBias())
            if (b == null || b.length != config.experts())
                throw new IOException(trainerFile + ": router_bias rows must have " + config.experts() + " experts");

        float[] params = new float[layout.size()], m = new float[layout.size()], v = new float[layout.size()];
        Map<String, Safetensors.Tensor> model = Safetensors.read(dir.resolve(MODEL));
        Map<String, Safetensors.Tensor> moments = Safetensors.read(dir.resolve(OPTIMIZER));
        fill(dir.resolve(MODEL), model, "", layout, params);
        fill(dir.resolve(OPTIMIZER), moments, "m.", layout, m);
        fill(dir.resolve(OPTIMIZER), moments, "v.", layout, v);
        if (model.size() != layout.entries().size())
            throw new IOException(dir.resolve(MODEL) + ": holds " + model.size() + " tensors, config.json implies " + layout.entries().size());
        if (moments.size() != 2 * layout.entries().size())
            throw new IOException(dir.resolve(OPTIMIZER) + ": holds " + moments.size() + " tensors, expected " + 2 * layout.entries().size());
        return new Loaded(dir, config, state, params, m, v);
    }

    private static void fill(Path file, Map<String, Safetensors.Tensor> tensors, String prefix, ParameterLayout layout,
                             float[] out) throws IOException {
        for (ParameterLayout.Entry e : layout.entries()) {
            Safetensors.Tensor t = tensors.get(prefix + e.name());
            if (t == null) throw new IOException(file + ": missing tensor " + prefix + e.name());
            if (!Arrays.equals(t.shape(), e.shape()))
                throw new IOException(file + ": tensor " + prefix + e.name() + " has shape " + Arrays.toString(t.shape())
                        + ", config.json implies " + Arrays.toString(e.shape()));
            System.arraycopy(t.data(), 0, out, e.offset(), e.size());
        }
    }

    private static String describe(MismatchedInputException e) {
        List<String> path = new ArrayList<>();
        for (var ref : e.getPath()) path.add(ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]");
        String field = String.join(".", path).replace(".[", "[");
        return (field.isEmpty() ? "" : "field " + field + ": ") + e.getOriginalMessage().lines().findFirst().orElse("");
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.delete(p);
                } catch (NoSuchFileException ignored) {
                    // already gone
                }
            }
        }
    }
}
