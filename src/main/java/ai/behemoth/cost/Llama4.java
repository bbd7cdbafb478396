package ai.behemoth.cost;

/**
 * Meta's published training figures for Llama 4 (blog post "The Llama 4 herd", 5 April 2025, and the
 * model card's "Training Energy Use", which counts H100-80GB hours at a 700 W TDP).
 *
 * @param name               model name
 * @param activeParams       parameters active per token
 * @param totalParams        all parameters
 * @param tokens             pre-training tokens ("about", "over": the published round figure)
 * @param reportedGpuHours   cumulative H100 hours in the model card, or 0 when not published
 * @param achievedTflops     per-GPU rate Meta reported, or 0 when not published; taken to be on H100s, the
 *                           GPUs of Meta's 2024-2025 training clusters
 * @param gpus               GPUs Meta reported for the run, or 0 when not published
 * @param precision          precision Meta reported, or BF16 when not stated
 */
public record Llama4(String name, double activeParams, double totalParams, double tokens,
                     double reportedGpuHours, double achievedTflops, double gpus,
                     Accelerator.Precision precision) {

    /** 17B active, 16 experts, 109B total, about 40T tokens; 5.0M H100-hours in the model card. */
    public static final Llama4 SCOUT = new Llama4("Llama 4 Scout", 17e9, 109e9, 40e12, 5.0e6, 0, 0,
            Accelerator.Precision.BF16);

    /** 17B active, 128 experts, 400B total, about 22T tokens; 2.38M H100-hours in the model card. */
    public static final Llama4 MAVERICK = new Llama4("Llama 4 Maverick", 17e9, 400e9, 22e12, 2.38e6, 0, 0,
            Accelerator.Precision.BF16);

    /**
     * 288B active, 16 experts, about 2T total, over 30T tokens, trained in FP8 at 390 TFLOP/s per GPU
     * on "32K GPUs". Meta names its clusters by round thousands of a power-of-two count (its "24K"
     * clusters hold 24,576 GPUs), so 32K is taken as 32,768.
     */
    public static final Llama4 BEHEMOTH = new Llama4("Llama 4 Behemoth", 288e9, 2e12, 30e12, 0, 390, 32_768,
            Accelerator.Precision.FP8);

    public static Llama4 byName(String name) {
        return switch (name) {
            case "scout" -> SCOUT;
            case "maverick" -> MAVERICK;
            case "behemoth" -> BEHEMOTH;
            default -> throw new IllegalArgumentException("unknown preset '" + name + "' (scout, maverick, behemoth)");
        };
    }
}
