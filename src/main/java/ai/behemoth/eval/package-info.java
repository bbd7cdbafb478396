/**
 * Honest evaluation: scores bound to the exact bytes evaluated, with confidence intervals.
 *
 * <ul>
 *   <li>{@link ai.behemoth.eval.Perplexity} (rolling windows), {@link ai.behemoth.eval.MultipleChoice}
 *       (acc and acc_norm as lm-evaluation-harness scores them) and {@link ai.behemoth.eval.StabilityProbe}
 *       (samples over many seeds) each produce {@link ai.behemoth.eval.ItemScores}: per-item columns and
 *       the metrics defined on them, run through {@link ai.behemoth.eval.Evaluations}.</li>
 *   <li>{@link ai.behemoth.eval.Bootstrap}: seeded percentile intervals, and paired or unpaired
 *       intervals for differences.</li>
 *   <li>{@link ai.behemoth.eval.EvalCard}: the JSON card (hashes from {@link ai.behemoth.eval.ModelSource}
 *       and {@link ai.behemoth.eval.EvalData}, provenance, scores, per-item columns),
 *       {@link ai.behemoth.eval.CardSignature} (Ed25519), {@link ai.behemoth.eval.CardVerifier} and
 *       {@link ai.behemoth.eval.CardComparison}.</li>
 *   <li>{@link ai.behemoth.eval.NextLineTasks} builds the shipped Shakespeare next-line task file.</li>
 * </ul>
 */
package ai.behemoth.eval;
