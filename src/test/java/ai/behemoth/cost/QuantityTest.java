package ai.behemoth.cost;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class QuantityTest {
    @Test
    void suffixesAreDecimalPowers() {
        assertThat(Quantity.parse("17B")).isEqualTo(17e9);
        assertThat(Quantity.parse("40T")).isEqualTo(40e12);
        assertThat(Quantity.parse("2.38M")).isCloseTo(2.38e6, within(1e-6));
        assertThat(Quantity.parse("32k")).isEqualTo(32e3);
        assertThat(Quantity.parse("1G")).isEqualTo(1e9);
        assertThat(Quantity.parse("1e12")).isEqualTo(1e12);
        assertThat(Quantity.parse(" 390 ")).isEqualTo(390);
        assertThat(Quantity.parse("1_000")).isEqualTo(1000);
        assertThat(Quantity.parse("-3")).isEqualTo(-3); // the sign is the caller's to judge
    }

    @Test
    void rejectsWhatIsNotANumber() {
        for (String bad : new String[]{"", "B", "17X", "abc", "NaN", "Infinity", "1e400", "17BB", "1.2.3T", "12d"})
            assertThatThrownBy(() -> Quantity.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + bad + "'");
    }

    @Test
    void formatsWithSuffix() {
        assertThat(Quantity.format(17e9)).isEqualTo("17.0 B");
        assertThat(Quantity.format(2.38e6)).isEqualTo("2.38 M");
        assertThat(Quantity.format(4.08e24)).isEqualTo("4.08e+24");
    }
}
