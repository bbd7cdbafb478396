package ai.behemoth.model;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link MappedCopy}: the parts' bytes in order, across buffer boundaries, mapped, with no file left behind. */
class MappedCopyTest {

    @Test
    void copiesThePartsInOrderIntoAMappingAndDeletesItsFile() throws IOException {
        SplittableRandom random = new SplittableRandom(5);
        List<MemorySegment> parts = new ArrayList<>();
        long total = 0;
        for (int size : new int[]{1, 700_000, 0, 1 << 20, 3, 1_500_001}) { // sizes across the 1 MB buffer's edges
            byte[] bytes = new byte[size];
            for (int i = 0; i < size; i++) bytes[i] = (byte) random.nextInt();
            parts.add(MemorySegment.ofArray(bytes));
            total += size;
        }
        long before = leftovers();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment copy = MappedCopy.of(parts, arena, "test parts");
            assertThat(copy.isMapped()).isTrue();
            assertThat(copy.byteSize()).isEqualTo(total);
            long at = 0;
            for (MemorySegment p : parts) {
                assertThat(copy.asSlice(at, p.byteSize()).mismatch(p)).as("part at %d", at).isEqualTo(-1);
                at += p.byteSize();
            }
            assertThat(leftovers()).isEqualTo(before);
        }
    }

    private static long leftovers() throws IOException {
        try (Stream<Path> files = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return files.filter(p -> p.getFileName().toString().startsWith("behemoth-weights-")).count();
        }
    }
}
