/**
 * Run reports: {@code RUN_DIR/metrics.jsonl} read ({@link ai.behemoth.report.MetricsLog}), drawn with
 * JFreeChart ({@link ai.behemoth.report.Charts}) and written as one self-contained
 * {@code report.html} plus PNG files ({@link ai.behemoth.report.RunReport}).
 *
 * <p>A package of its own rather than part of {@code eval}: a run report describes how a training
 * run went (losses, balance, stability events, cost), written by {@code train} at its end and by
 * {@code behemoth report}; {@code eval} scores finished models. It depends only on the metrics
 * format and the plotting library, so {@code train}, {@code cli} and the sweep tools can all call it.
 */
package ai.behemoth.report;
