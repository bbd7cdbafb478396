package ai.behemoth.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Vector functions whose bits never depend on how the JIT compiled them, built from exact IEEE
 * lane operations only. {@code VectorOperators.EXP} and {@code reduceLanes(ADD)} do not promise
 * that: the interpreter and compiled code may compute them differently (another polynomial,
 * another summation order), so a result could change bits when a method gets compiled, which
 * breaks the same-seed, same-bits promise.
 */
public final class VectorMath {
    private VectorMath() {}

    private static final float LOG2E = 1.44269504f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;

    /**
     * e^x for x ≤ 0, the case of every softmax once its maximum is subtracted (Cephes expf:
     * x = n·ln2 + r, a degree-6 polynomial in r, times 2^n), within 2 ulp of {@link Math#exp};
     * below −87 it returns about 1.6e−38 instead of a subnormal.
     */
    public static FloatVector exp(FloatVector x) {
        x = x.max(-87f);
        IntVector n = (IntVector) x.mul(LOG2E).sub(0.5f).convert(VectorOperators.F2I, 0); // nearest, as x ≤ 0
        FloatVector fn = (FloatVector) n.convert(VectorOperators.I2F, 0);
        FloatVector r = x.sub(fn.mul(LN2_HI)).sub(fn.mul(LN2_LO));
        FloatVector poly = r.mul(1.9875691500e-4f).add(1.3981999507e-3f)
                .mul(r).add(8.3334519073e-3f)
                .mul(r).add(4.1665795894e-2f)
                .mul(r).add(1.6666665459e-1f)
                .mul(r).add(5.0000001201e-1f)
                .mul(r.mul(r)).add(r).add(1f);
        FloatVector twoToN = n.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return poly.mul(twoToN);
    }

    /**
     * {@link #sumLanes} of a vector of {@code n} lanes already stored at {@code lanes[off..]}: the same
     * sum, for code where a call that takes a vector might be left uninlined by C2 in a large method,
     * which then allocates the vector at every call.
     */
    public static float sumLanes(float[] lanes, int off, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) sum += lanes[off + i];
        return sum;
    }

    /**
     * The sum of the lanes, added in lane order from 0. The 8- and 16-lane cases name each lane with a
     * constant, so that compiled code extracts it directly; a loop over {@code lane(i)} compiles to a
     * switch over the lanes each time round (several times slower in the inference kernels).
     */
    public static float sumLanes(FloatVector v) {
        return switch (v.length()) {
            case 8 -> 0f + v.lane(0) + v.lane(1) + v.lane(2) + v.lane(3) + v.lane(4) + v.lane(5) + v.lane(6) + v.lane(7);
            case 16 -> 0f + v.lane(0) + v.lane(1) + v.lane(2) + v.lane(3) + v.lane(4) + v.lane(5) + v.lane(6) + v.lane(7)
                    + v.lane(8) + v.lane(9) + v.lane(10) + v.lane(11) + v.lane(12) + v.lane(13) + v.lane(14) + v.lane(15);
            default -> {
                float sum = 0;
                for (int i = 0; i < v.length(); i++) sum += v.lane(i);
                yield sum;
            }
        };
    }
}
