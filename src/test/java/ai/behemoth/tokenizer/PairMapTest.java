package ai.behemoth.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class PairMapTest {
    @Test
    void agreesWithHashMapThroughManyGrowths() {
        PairMap map = new PairMap(4);
        Map<Long, Long> reference = new HashMap<>();
        Random random = new Random(1);
        for (int i = 0; i < 60_000; i++) {
            long key = PairMap.key(random.nextInt(2000), random.nextInt(2000));
            long value = random.nextInt(100);
            switch (random.nextInt(3)) {
                case 0 -> {
                    map.put(key, value);
                    reference.put(key, value);
                }
                case 1 -> assertThat(map.add(key, value)).isEqualTo(reference.merge(key, value, Long::sum));
                default -> assertThat(map.get(key, -7)).isEqualTo(reference.getOrDefault(key, -7L));
            }
        }
        assertThat(map.size()).isEqualTo(reference.size());
        reference.forEach((key, value) -> assertThat(map.get(key, -1)).isEqualTo(value));
        long key = PairMap.key(123456, 7);
        assertThat(PairMap.left(key)).isEqualTo(123456);
        assertThat(PairMap.right(key)).isEqualTo(7);
    }
}
