package ai.behemoth.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class VectorMathTest {
    /** sumLanes, of a vector and of a stored one, against a scalar loop over the lanes in order, to the bit, for 4, 8 and 16 lanes. */
    @Test
    void sumLanesAddsTheLanesInOrder() {
        SplittableRandom random = new SplittableRandom(3);
        for (VectorSpecies<Float> species : List.of(FloatVector.SPECIES_128, FloatVector.SPECIES_256, FloatVector.SPECIES_512)) {
            for (int trial = 0; trial < 200; trial++) {
                float[] x = new float[species.length()];
                for (int i = 0; i < x.length; i++) x[i] = (float) ((random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(-3, 4)));
                float expected = 0;
                for (float v : x) expected += v;
                assertThat(VectorMath.sumLanes(FloatVector.fromArray(species, x, 0))).as("%s trial %d", species, trial).isEqualTo(expected);
                float[] stored = new float[x.length + 3];
                System.arraycopy(x, 0, stored, 3, x.length);
                assertThat(VectorMath.sumLanes(stored, 3, x.length)).as("stored, %s trial %d", species, trial).isEqualTo(expected);
            }
        }
    }
}
