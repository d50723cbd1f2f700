package io.chimedialer.core.contacts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DncListTest {
    private final DncList dnc = new DncList(PhoneNumbers.forRegion("US"));

    @Test
    void load_onePerLineWithCommentsAndBadLine_addsValidOnesAndReportsTheBadLine() throws IOException {
        DncList.LoadReport report = dnc.load("dnc.txt", new StringReader(
                "# opt-outs\n+12125550123\n\n(310) 555-0123\n   # indented comment\nbanana\n212-555-0123\n"));

        assertThat(report.source()).isEqualTo("dnc.txt");
        assertThat(report.added()).isEqualTo(2);
        assertThat(report.alreadyPresent()).isEqualTo(1);
        assertThat(report.badLineCount()).isEqualTo(1);
        assertThat(report.badLines()).containsExactly(
                new DncList.BadLine("dnc.txt", 6, "banana", "not a phone number"));
        assertThat(dnc.size()).isEqualTo(2);
        assertThat(dnc.contains("+12125550123")).isTrue();
        assertThat(dnc.contains("+13105550123")).isTrue();
        assertThat(dnc.contains("+14155550100")).isFalse();
    }

    @Test
    void load_csvWithPhoneHeader_readsThatColumn() throws IOException {
        DncList.LoadReport report = dnc.load("dnc.csv", new StringReader(
                "\uFEFFname,Phone,reason\r\n\"Doe, Jane\",+1 212 555 0123,asked\r\nBob,,asked\r\n"));

        assertThat(report.added()).isEqualTo(1);
        assertThat(report.badLines()).extracting(DncList.BadLine::line).containsExactly(3L);
        assertThat(dnc.contains("+12125550123")).isTrue();
    }

    @Test
    void load_csvWithoutHeader_readsTheFirstColumnOfEveryLine() throws IOException {
        DncList.LoadReport report = dnc.load("plain.csv", new StringReader(
                "2125550123,2024-01-01\n3105550123,2024-02-01\n"));

        assertThat(report.added()).isEqualTo(2);
        assertThat(report.badLineCount()).isZero();
        assertThat(dnc.contains("+13105550123")).isTrue();
    }

    @Test
    void load_unknownHeaderName_skipsItAndReadsTheFirstColumn() throws IOException {
        DncList.LoadReport report = dnc.load("msisdn.csv", new StringReader("msisdn,note\n2125550123,x\n"));

        assertThat(report.added()).isEqualTo(1);
        assertThat(report.badLineCount()).isZero();
    }

    @Test
    void load_brokenQuoting_reportedAndSkipped() throws IOException {
        DncList.LoadReport report = dnc.load("q.csv", new StringReader("\"2125550123\"x\n3105550123\n"));

        assertThat(report.added()).isEqualTo(1);
        assertThat(report.badLines()).singleElement().satisfies(bad -> {
            assertThat(bad.line()).isEqualTo(1);
            assertThat(bad.reason()).startsWith("broken quoting");
        });
    }

    @Test
    void load_manyBadLines_keepsTheFirstHundredAndCountsAll() throws IOException {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 250; i++) {
            text.append("x").append(i).append('\n');
        }

        DncList.LoadReport report = dnc.load("junk.txt", new StringReader(text.toString()));

        assertThat(report.badLineCount()).isEqualTo(250);
        assertThat(report.badLines()).hasSize(DncList.MAX_REPORTED_BAD_LINES);
        assertThat(report.badLines().get(99).line()).isEqualTo(100);
    }

    @Test
    void add_optOutAtRunTime_isContainedInAnyForm() {
        assertThat(dnc.add("+14155550100")).isTrue();
        assertThat(dnc.add("(415) 555-0100")).isFalse();

        assertThat(dnc.contains("+14155550100")).isTrue();
        assertThat(dnc.contains("415 555 0100")).isTrue();
        assertThat(dnc.contains("garbage")).isFalse();
        assertThat(dnc.contains(null)).isFalse();
    }

    @Test
    void add_invalidNumber_throwsWithMaskedNumber() {
        assertThatThrownBy(() -> dnc.add("+1 099 555 0101"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0101")
                .hasMessageNotContaining("099 555");
    }

    @Test
    void addAndContains_fromSeveralThreads_loseNothing() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int offset = t;
                futures.add(pool.submit(() -> {
                    for (int i = offset; i < 20_000; i += 4) {
                        dnc.add(SyntheticCsv.number(i));
                        assertThat(dnc.contains(SyntheticCsv.number(i))).isTrue();
                    }
                }));
            }
            for (Future<?> future : futures) {
                future.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(dnc.size()).isEqualTo(20_000);
        for (int i = 0; i < 20_000; i++) {
            assertThat(dnc.contains(SyntheticCsv.number(i))).isTrue();
        }
    }
}
