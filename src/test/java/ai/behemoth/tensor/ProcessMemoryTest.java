package ai.behemoth.tensor;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProcessMemoryTest {
    /** An excerpt of a real /proc/self/status (Linux 6.x), fields in the kernel's order. */
    private static final String STATUS = """
            Name:\tjava
            Umask:\t0022
            State:\tS (sleeping)
            VmPeak:\t 9412336 kB
            VmSize:\t 9346800 kB
            VmLck:\t       0 kB
            VmHWM:\t  851204 kB
            VmRSS:\t  640112 kB
            RssAnon:\t  120300 kB
            RssFile:\t  519744 kB
            RssShmem:\t      68 kB
            VmData:\t 1093504 kB
            Threads:\t23
            """;

    @Test
    void parsesThePeakAndTheResidentSetInBytes() {
        ProcessMemory m = ProcessMemory.parse(STATUS);
        assertThat(m.peakRssBytes()).isEqualTo(851204L * 1024);
        assertThat(m.rssBytes()).isEqualTo(640112L * 1024);
        assertThat(m.rssAnonBytes()).isEqualTo(120300L * 1024);
        assertThat(m.rssFileBytes()).isEqualTo(519744L * 1024);
        assertThat(m.describe()).startsWith("871.6 MB peak RSS (now 655.5 MB");
    }

    @Test
    void aMissingOrMalformedFieldIsNamed() {
        assertThatThrownBy(() -> ProcessMemory.parse(STATUS.replace("VmHWM", "VmXXX")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("VmHWM");
        assertThatThrownBy(() -> ProcessMemory.parse(STATUS.replace("640112 kB", "640112 MB")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("VmRSS");
    }

    @Test
    void readsThisProcessOnLinux() {
        if (!System.getProperty("os.name").equals("Linux")) {
            assertThat(ProcessMemory.read()).isEmpty();
            return;
        }
        ProcessMemory m = ProcessMemory.read().orElseThrow();
        assertThat(m.peakRssBytes()).isGreaterThanOrEqualTo(m.rssBytes());
        assertThat(m.rssBytes()).isGreaterThan(0);
    }
}
