package ai.behemoth.cost;

/**
 * Counts written the way model cards write them: {@code 17B}, {@code 40T}, {@code 2.38M},
 * {@code 32K}, or plain numbers ({@code 1e12}, {@code 390}). Suffixes are decimal:
 * K = 1e3, M = 1e6, B or G = 1e9, T = 1e12, P = 1e15.
 */
public final class Quantity {
    private Quantity() {}

    /** The value of {@code text}; throws IllegalArgumentException quoting it when it is not a finite number. */
    public static double parse(String text) {
        String s = text.strip().replace("_", "").replace(",", "");
        if (s.isEmpty()) throw new IllegalArgumentException("'" + text + "' is not a number");
        double scale = switch (Character.toUpperCase(s.charAt(s.length() - 1))) {
            case 'K' -> 1e3;
            case 'M' -> 1e6;
            case 'B', 'G' -> 1e9;
            case 'T' -> 1e12;
            case 'P' -> 1e15;
            default -> 1;
        };
        String digits = scale == 1 ? s : s.substring(0, s.length() - 1);
        double value;
        try {
            // Double.parseDouble also takes "NaN", "Infinity" and a trailing 'd'/'f': refuse those.
            if (!digits.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?"))
                throw new NumberFormatException();
            value = Double.parseDouble(digits) * scale;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not a number with an optional K, M, B, T or P suffix");
        }
        if (!Double.isFinite(value)) throw new IllegalArgumentException("'" + text + "' is too large");
        return value;
    }

    /** A short form with a suffix and three significant digits: 4.08e24 gives {@code 4.08e+24}, 1.7e10 {@code 17.0 B}. */
    public static String format(double value) {
        double a = Math.abs(value);
        if (a >= 1e18) return String.format("%.3g", value);
        if (a >= 1e15) return String.format("%.3g P", value / 1e15);
        if (a >= 1e12) return String.format("%.3g T", value / 1e12);
        if (a >= 1e9) return String.format("%.3g B", value / 1e9);
        if (a >= 1e6) return String.format("%.3g M", value / 1e6);
        if (a >= 1e4) return String.format("%.3g K", value / 1e3);
        return String.format("%.3g", value);
    }
}
