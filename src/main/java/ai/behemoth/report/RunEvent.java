package ai.behemoth.report;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One line of {@code metrics.jsonl} that records something that happened rather than a step's
 * measurements. The format, which the stability guard and {@code train} write:
 *
 * <p>An event is a JSON object with a string field {@code "event"} naming its kind and an integer
 * field {@code "step"}: the optimizer step at which it happened (optional for {@code config} and
 * {@code summary} only). {@code "reason"} (a string) says
 * why, where a kind has reasons. Other fields depend on the kind:
 * <dl>
 *   <dt>{@code spike}</dt>
 *   <dd>A loss or gradient-norm spike was detected. {@code reason}: {@code "loss_spike"} or
 *       {@code "grad_spike"}; optional numbers {@code value} (the spiking value), {@code mean},
 *       {@code std} and {@code zscore} of the rolling window it was compared with.
 *       {@code {"step": 118, "event": "spike", "reason": "loss_spike", "value": 7.9, "zscore": 6.2}}</dd>
 *   <dt>{@code skip}</dt>
 *   <dd>The update of this step was not applied. {@code reason}: {@code "nonfinite_loss"},
 *       {@code "nonfinite_grad"}, {@code "loss_spike"} or {@code "grad_spike"}; optional {@code value}.
 *       {@code {"step": 120, "event": "skip", "reason": "loss_spike", "value": 8.1}}</dd>
 *   <dt>{@code rollback}</dt>
 *   <dd>Parameters and optimizer state were restored from the checkpoint of step {@code to_step}
 *       (an integer, required, not above {@code step}). Step records logged after this event
 *       continue from {@code to_step + 1}; the records with a step above {@code to_step} that were
 *       logged before it are the abandoned branch, drawn faintly. Optional: {@code reason},
 *       {@code skip_data} ({@code [first_step, last_step]} of the data window skipped) and
 *       {@code lr_scale} (the factor the learning rate was multiplied by).
 *       {@code {"step": 130, "event": "rollback", "to_step": 100, "reason": "3 bad steps in 20", "lr_scale": 0.5}}</dd>
 *   <dt>{@code config}</dt>
 *   <dd>The run's settings, any fields (nested objects are flattened with dots); shown as a table.
 *       Usually the first line.</dd>
 *   <dt>{@code summary}</dt>
 *   <dd>The end of the run, usually the last line. Known numeric fields: {@code tokens},
 *       {@code flops} (total training FLOPs), {@code flops_per_token}, {@code mfu} (a fraction),
 *       {@code peak_gflops}, {@code seconds}, {@code kwh}, {@code cost} ({@code RunCost.putInto} writes
 *       these), {@code train_loss},
 *       {@code val_loss}, {@code val_bpb}, {@code skips}, {@code rollbacks}; any other scalar
 *       fields are listed too.</dd>
 * </dl>
 * Any other kind is accepted, drawn as a grey marker and listed.
 *
 * @param step   the step it happened at, or -1 when a config or summary event has none
 * @param kind   the {@code event} field
 * @param reason the {@code reason} field, or empty
 * @param toStep for a rollback, the step restored; otherwise -1
 * @param fields the whole line, for the kinds' other fields
 */
public record RunEvent(long step, String kind, String reason, long toStep, ObjectNode fields) {
    public static final String SPIKE = "spike", SKIP = "skip", ROLLBACK = "rollback",
            CONFIG = "config", SUMMARY = "summary";
}
