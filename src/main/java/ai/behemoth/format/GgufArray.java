package ai.behemoth.format;

import java.util.List;

/**
 * A GGUF metadata array: its element type and its items, held as {@link GgufValue#value()} holds a
 * single value of that type (an array of arrays holds {@code GgufArray} items).
 */
public record GgufArray(GgufValueType elementType, List<?> items) {
    public GgufArray {
        items = List.copyOf(items);
        for (Object item : items) GgufValue.check(elementType, item);
    }

    public int size() {
        return items.size();
    }
}
