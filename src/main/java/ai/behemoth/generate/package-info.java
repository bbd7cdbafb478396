/**
 * Text generation on the inference engine, and Behemoth's public Java API.
 *
 * <ul>
 *   <li>{@link ai.behemoth.generate.LanguageModel}: load a checkpoint (memory-mapped, optionally quantised),
 *       {@code generate} a {@link ai.behemoth.generate.Generation} (an iterator and stream of
 *       {@link ai.behemoth.generate.Token}s), or open a {@link ai.behemoth.generate.ChatSession}.</li>
 *   <li>{@link ai.behemoth.generate.GenerateOptions} and {@link ai.behemoth.generate.Sampler}: greedy,
 *       temperature, top-k, top-p, min-p, repetition/presence/frequency penalties, seed, stop strings.</li>
 *   <li>{@link ai.behemoth.generate.Utf8Stream} and {@link ai.behemoth.generate.StopStrings}: streamed text is
 *       released only as whole characters, and never includes a stop string, even one split over tokens.</li>
 *   <li>{@link ai.behemoth.generate.ChatTemplate}: Jinja templates through Jinjava, or the built-in Llama 3 layout.</li>
 * </ul>
 *
 * An empty prompt is an error rather than a generation from a begin-of-text token: plain generation
 * continues text, and there is none.
 */
package ai.behemoth.generate;
