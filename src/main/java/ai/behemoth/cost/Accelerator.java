package ai.behemoth.cost;

/**
 * Datacenter accelerators a training run is projected onto, with their dense (no 2:4 sparsity)
 * tensor-core peaks and board power.
 *
 * <p>Sources: NVIDIA's H100 SXM5 figures as tabulated by G. Lockwood
 * (glennklockwood.com/garden/processors/h100): BF16 matrix 989.4 TFLOP/s, FP8 1978.9 TFLOP/s
 * (NVIDIA's datasheet doubles these "with sparsity"), 700 W. The H200 is the same GH100 compute with
 * more and faster HBM3e, so the same rates and 700 W. B200 in an HGX board at 1000 W
 * (glennklockwood.com/garden/processors/B200, NVIDIA HGX B200 datasheet): BF16 2250 TFLOP/s dense,
 * FP8 4500 TFLOP/s dense.
 */
public enum Accelerator {
    H100("H100 SXM", 989.4, 1978.9, 700),
    H200("H200 SXM", 989.4, 1978.9, 700),
    B200("B200 HGX", 2250, 4500, 1000);

    /** Number format of the matrix products; the peak doubles from BF16 to FP8 on all three. */
    public enum Precision { BF16, FP8 }

    private final String label;
    private final double bf16Tflops, fp8Tflops, watts;

    Accelerator(String label, double bf16Tflops, double fp8Tflops, double watts) {
        this.label = label;
        this.bf16Tflops = bf16Tflops;
        this.fp8Tflops = fp8Tflops;
        this.watts = watts;
    }

    public String label() {
        return label;
    }

    /** Dense tensor-core peak in TFLOP/s at the given precision. */
    public double peakTflops(Precision precision) {
        return switch (precision) {
            case BF16 -> bf16Tflops;
            case FP8 -> fp8Tflops;
        };
    }

    /** Board power (TDP) in watts, the default energy figure per accelerator. */
    public double watts() {
        return watts;
    }
}
