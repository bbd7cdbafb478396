package ai.behemoth.report;

import java.util.List;

/**
 * One logged training step of {@code metrics.jsonl}. A field that was not logged is NaN
 * (validation fields on steps without an evaluation, for example).
 *
 * @param step       optimizer step
 * @param trainLoss  training loss of the step's batch, nats per token
 * @param valLoss    validation loss, nats per token
 * @param valBpb     validation bits per byte
 * @param lr         learning rate used by the step
 * @param gradNorm   global gradient norm before clipping
 * @param tokensPerS training throughput
 * @param experts    one entry per MoE layer; empty for a dense model
 */
public record StepRecord(long step, double trainLoss, double valLoss, double valBpb, double lr,
                         double gradNorm, double tokensPerS, List<LayerLoad> experts) {}
