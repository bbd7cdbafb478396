/**
 * The model's shape ({@link ai.behemoth.model.ModelConfig}, {@link ai.behemoth.model.Presets}) and the
 * inference engine.
 *
 * <ul>
 *   <li>{@link ai.behemoth.model.ModelWeights} holds the weights by role ({@link ai.behemoth.model.LayerWeights}),
 *       each matrix a {@link ai.behemoth.model.Matrix} of any ggml type over a memory segment. A weight source
 *       fills it: {@link ai.behemoth.model.CheckpointWeights} maps a checkpoint's {@code model.safetensors}; a
 *       GGUF reader fills the same records from {@code blk.N.*} tensors, so the engine does not change.</li>
 *   <li>{@link ai.behemoth.model.InferenceModel} runs a {@link ai.behemoth.model.Batch}: rows that each name a
 *       {@link ai.behemoth.model.Sequence} (its key/value cache) and a token. A prompt chunk is many rows of one
 *       sequence; a continuous-batching decode step is one row of each running sequence; MoE layers group all
 *       rows of the batch by expert.</li>
 * </ul>
 */
package ai.behemoth.model;
