package ai.behemoth.cli;

import ai.behemoth.cost.Accelerator;
import ai.behemoth.cost.Llama4;
import ai.behemoth.cost.Quantity;
import ai.behemoth.cost.TrainingPlan;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code behemoth cost}: projects the compute, time, energy and money of a training run at
 * datacenter scale, from the 6 × active parameters × tokens estimate. {@code --preset} fills in
 * Meta's published Llama 4 figures; any flag given as well overrides the preset's value.
 */
@Command(name = "cost", mixinStandardHelpOptions = true,
        description = {"Project a training run: FLOPs (6 x active params x tokens), accelerator-hours, wall days, MWh, money.",
                "Counts take suffixes K, M, B, T (17B, 40T)."})
public final class CostCommand implements Callable<Integer> {
    private static final double DEFAULT_MFU = 0.4;

    @Option(names = "--preset", description = "Meta's published Llama 4 figures: scout, maverick, behemoth.")
    String preset;

    @Option(names = "--params", converter = QuantityConverter.class, description = "Total parameters (e.g. 109B).")
    Double params;

    @Option(names = "--active-params", converter = QuantityConverter.class, description = "Parameters active per token (e.g. 17B).")
    Double activeParams;

    @Option(names = "--tokens", converter = QuantityConverter.class, description = "Training tokens (e.g. 40T).")
    Double tokens;

    @Option(names = "--accelerator", description = "h100, h200 or b200 (default h100).")
    String accelerator;

    @Option(names = "--precision", description = "bf16 or fp8: which dense peak the MFU applies to (default bf16).")
    String precision;

    @Option(names = "--mfu", description = "Model FLOPs utilisation, 0 < MFU <= 1 (default " + DEFAULT_MFU + ").")
    Double mfu;

    @Option(names = "--tflops", description = "Achieved TFLOP/s per accelerator; replaces MFU x peak.")
    Double tflops;

    @Option(names = "--count", converter = QuantityConverter.class, description = "Accelerators (e.g. 32K; default 1, or the preset's).")
    Double count;

    @Option(names = "--watts", description = "Power per accelerator in W (default: its TDP).")
    Double watts;

    @Option(names = "--pue", defaultValue = "1.0", description = "Datacenter power usage effectiveness (default ${DEFAULT-VALUE}: accelerators only).")
    double pue;

    @Option(names = "--price-kwh", defaultValue = "0", description = "Money per kWh (default ${DEFAULT-VALUE}).")
    double priceKwh;

    @Option(names = "--price-hour", defaultValue = "2.0", description = "Money per accelerator-hour (default ${DEFAULT-VALUE}, a typical 2025 H100 rental).")
    double priceHour;

    @Option(names = "--json", description = "Print one JSON object: flops, accelerator_hours, days, mwh, cost, and the inputs.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Parses 17B, 40T, 2.38M, 32K; picocli reports a failure as a usage error naming the flag. */
    static final class QuantityConverter implements CommandLine.ITypeConverter<Double> {
        @Override
        public Double convert(String value) {
            try {
                return Quantity.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    @Override
    public Integer call() {
        Llama4 published = null;
        if (preset != null) {
            try {
                published = Llama4.byName(preset.toLowerCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw usage("--preset: " + e.getMessage());
            }
        }
        Accelerator hardware = parseEnum(Accelerator.class, "--accelerator", accelerator, Accelerator.H100);
        Accelerator.Precision format = parseEnum(Accelerator.Precision.class, "--precision", precision,
                published != null ? published.precision() : Accelerator.Precision.BF16);

        double active = required("--active-params", activeParams, published != null ? published.activeParams() : null);
        double total = params != null ? params : published != null ? published.totalParams() : active;
        double trainTokens = required("--tokens", tokens, published != null ? published.tokens() : null);
        // An explicit --tflops beats --mfu, which beats a preset's measured rate. That rate was
        // measured on H100s, so it carries over to other hardware as the same fraction of the peak.
        double achieved = tflops != null ? tflops : 0;
        double utilisation = mfu != null ? mfu
                : published != null && published.achievedTflops() > 0
                ? published.achievedTflops() / Accelerator.H100.peakTflops(published.precision())
                : DEFAULT_MFU;
        double accelerators = count != null ? count : published != null && published.gpus() > 0 ? published.gpus() : 1;
        double power = watts != null ? watts : hardware.watts();

        positive("--params", total);
        positive("--active-params", active);
        positive("--tokens", trainTokens);
        if (active > total)
            throw usage("--active-params (" + Quantity.format(active) + ") exceeds --params (" + Quantity.format(total) + ")");
        if (!(utilisation > 0 && utilisation <= 1)) throw usage("--mfu must be in (0, 1], got " + utilisation);
        if (tflops != null) positive("--tflops", tflops);
        if (achieved > hardware.peakTflops(format))
            throw usage("--tflops " + achieved + " exceeds the " + hardware.label() + " " + format + " peak of "
                    + hardware.peakTflops(format));
        positive("--count", accelerators);
        notNegative("--watts", power);
        if (!(pue >= 1) || !Double.isFinite(pue)) throw usage("--pue must be at least 1, got " + pue);
        notNegative("--price-kwh", priceKwh);
        notNegative("--price-hour", priceHour);

        TrainingPlan plan = new TrainingPlan(total, active, trainTokens, hardware, format, utilisation, achieved,
                accelerators, power, pue, priceKwh, priceHour);
        TrainingPlan.Projection p = plan.project();
        double reportedHours = published != null ? published.reportedGpuHours() : 0;
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode()
                    .put("flops", p.flops())
                    .put("accelerator_hours", p.acceleratorHours())
                    .put("days", p.days())
                    .put("mwh", p.mwh())
                    .put("cost", p.cost())
                    .put("preset", preset == null ? null : preset.toLowerCase(Locale.ROOT))
                    .put("params", total)
                    .put("active_params", active)
                    .put("tokens", trainTokens)
                    .put("accelerator", hardware.name().toLowerCase(Locale.ROOT))
                    .put("precision", format.name().toLowerCase(Locale.ROOT))
                    .put("peak_tflops", hardware.peakTflops(format))
                    .put("tflops_per_accelerator", p.tflopsPerAccelerator())
                    .put("mfu", p.mfu())
                    .put("accelerators", accelerators)
                    .put("watts", power)
                    .put("pue", pue)
                    .put("price_kwh", priceKwh)
                    .put("price_hour", priceHour);
            if (reportedHours > 0) o.put("reported_accelerator_hours", reportedHours);
            out.println(o);
            return 0;
        }
        if (published != null) out.printf("%s, Meta's published figures%s%n", published.name(),
                reportedHours > 0 ? " (" + Quantity.format(reportedHours) + " H100-hours reported)" : "");
        out.printf("  parameters          %s total, %s active%n", Quantity.format(total), Quantity.format(active));
        out.printf("  tokens              %s%n", Quantity.format(trainTokens));
        out.printf("  training FLOPs      %.3g  (6 x active parameters x tokens)%n", p.flops());
        out.printf("  rate                %.0f TFLOP/s per %s = %.1f%% of its %s dense peak (%.0f TFLOP/s)%s%n",
                p.tflopsPerAccelerator(), hardware.label(), 100 * p.mfu(), format, hardware.peakTflops(format),
                tflops == null && mfu == null && published != null && published.achievedTflops() > 0
                        ? "; Meta reported " + Quantity.format(published.achievedTflops()) + " TFLOP/s per H100" : "");
        out.printf("  accelerator-hours   %s%n", Quantity.format(p.acceleratorHours()));
        out.printf("  wall time           %,.1f days on %,.0f accelerator%s%n", p.days(), accelerators, accelerators == 1 ? "" : "s");
        out.printf("  energy              %,.1f MWh  (%.0f W each, PUE %.2f)%n", p.mwh(), power, pue);
        out.printf("  cost                %,.0f  (%.2f per accelerator-hour + %.3f per kWh)%n", p.cost(), priceHour, priceKwh);
        if (reportedHours > 0)
            out.printf("  reported            %s H100-hours: this projection is %.2fx of it%n",
                    Quantity.format(reportedHours), p.acceleratorHours() / reportedHours);
        return 0;
    }

    private double required(String flag, Double given, Double fromPreset) {
        if (given != null) return given;
        if (fromPreset != null) return fromPreset;
        throw usage("missing " + flag + " (give it, or a --preset)");
    }

    private void positive(String flag, double value) {
        if (!(value > 0) || !Double.isFinite(value)) throw usage(flag + " must be positive, got " + value);
    }

    private void notNegative(String flag, double value) {
        if (!(value >= 0) || !Double.isFinite(value)) throw usage(flag + " must not be negative, got " + value);
    }

    private <E extends Enum<E>> E parseEnum(Class<E> type, String flag, String value, E fallback) {
        if (value == null) return fallback;
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw usage(flag + ": unknown value '" + value + "'");
        }
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
