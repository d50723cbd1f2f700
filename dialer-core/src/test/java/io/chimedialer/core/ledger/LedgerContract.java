package io.chimedialer.core.ledger;

import io.chimedialer.testkit.ManualClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.core.domain.Attempt;
import io.chimedialer.core.domain.ActionFailure;
import io.chimedialer.core.domain.CallResult;
import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.contacts.Contact;
import io.chimedialer.core.ledger.Ledger.AttemptRecord;
import io.chimedialer.core.ledger.Ledger.CampaignRecord;
import io.chimedialer.core.ledger.Ledger.CampaignState;
import io.chimedialer.core.ledger.Ledger.ContactProgress;
import io.chimedialer.core.ledger.Ledger.FollowUp;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The behaviour every ledger backend must have. A subclass supplies a fresh, empty database per test
 * (the same one for every {@link #options()} call within a test) and a raw connection to it.
 */
abstract class LedgerContract {
    static final Duration WAIT = Duration.ofSeconds(20);
    static final Instant T0 = Instant.parse("2026-01-02T03:04:05.678Z");
    static final String CAMPAIGN = "reminders";

    final ManualClock clock = new ManualClock(T0);
    JdbcLedger ledger;

    /** Options for this test's database. */
    abstract LedgerOptions options();

    /** A plain JDBC connection to this test's database (auto-commit on), closed by the caller. */
    abstract Connection raw() throws SQLException;

    /** Makes this test's empty database, before the ledger opens it. */
    void prepareDatabase() throws SQLException {
    }

    @BeforeEach
    void openLedger() throws SQLException {
        prepareDatabase();
        ledger = JdbcLedger.open(options());
    }

    @AfterEach
    void closeLedger() {
        if (ledger != null) {
            ledger.close();
        }
    }

    static Attempt attempt(String attemptId, String contactId, String number, int attemptNumber) {
        return new Attempt(attemptId, CAMPAIGN, new Contact(1, contactId, number, "", null, null), attemptNumber,
                "us-east-1", "+12065550100");
    }

    static CallResult result(String attemptId, String transactionId, Disposition disposition, Integer sip) {
        return new CallResult(attemptId, CAMPAIGN, transactionId, disposition, sip, Duration.ofMillis(4200),
                Duration.ofMillis(disposition == Disposition.ANSWERED ? 31_500 : 0), "1#", 7,
                T0.plusSeconds(60));
    }

    @Test
    void recordIntents_whenCompleted_areVisibleToAnotherLedgerOnTheSameDatabase() {
        List<Attempt> intents = List.of(attempt("a1", "c1", "+12065550001", 1),
                attempt("a2", "c2", "+12065550002", 1), attempt("a3", "c3", "+12065550003", 1));
        ledger.recordIntents(intents).block(WAIT);

        // a second ledger (as after a crash and restart) reads what the first committed
        try (JdbcLedger other = JdbcLedger.open(options())) {
            List<AttemptRecord> records = other.attempts(CAMPAIGN).collectList().block(WAIT);
            assertThat(records).containsExactly(
                    new AttemptRecord("a1", CAMPAIGN, "c1", "+12065550001", 1, "us-east-1", "+12065550100", null,
                            T0, null, null),
                    new AttemptRecord("a2", CAMPAIGN, "c2", "+12065550002", 1, "us-east-1", "+12065550100", null,
                            T0, null, null),
                    new AttemptRecord("a3", CAMPAIGN, "c3", "+12065550003", 1, "us-east-1", "+12065550100", null,
                            T0, null, null));
        }
    }

    @Test
    void openReadOnly_readsWhatWasCommitted_andRefusesEveryWrite() {
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1))).block(WAIT);
        ledger.recordSkipped(CAMPAIGN, "line-3", "12345", "INVALID", "not a phone number").block(WAIT);

        try (JdbcLedger reader = JdbcLedger.openReadOnly(options())) {
            assertThat(reader.attempts(CAMPAIGN).map(AttemptRecord::attemptId).collectList().block(WAIT))
                    .containsExactly("a1");
            assertThat(reader.contacts(CAMPAIGN).map(Ledger.ContactProgress::status).collectList().block(WAIT))
                    .containsExactly("IN_PROGRESS", "INVALID");
            List<Attempt> write = List.of(attempt("a2", "c2", "+12065550002", 1));
            assertThatThrownBy(() -> reader.recordIntents(write).block(WAIT)).isInstanceOf(LedgerException.class);
        }
        assertThat(ledger.attempts(CAMPAIGN).collectList().block(WAIT)).hasSize(1);
    }

    @Test
    void openReadOnly_ledgerOfAnOlderDialer_isRefusedNamingTheMissingMigration() throws SQLException {
        try (Connection c = raw(); Statement st = c.createStatement()) {
            st.executeUpdate("DELETE FROM schema_version WHERE version = 3");
        }

        assertThatThrownBy(() -> JdbcLedger.openReadOnly(options())).isInstanceOf(LedgerException.class)
                .hasMessageEndingWith("written by an older dialer (schema V3 not applied); open it once with run "
                        + "or serve to migrate it");
    }

    @Test
    void recordIntents_sameAttemptTwice_keepsTheFirstIntent() {
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1))).block(WAIT);
        clock.advance(Duration.ofMinutes(5));
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550009", 1))).block(WAIT);

        List<AttemptRecord> records = ledger.attempts(CAMPAIGN).collectList().block(WAIT);
        assertThat(records).hasSize(1);
        assertThat(records.get(0).number()).isEqualTo("+12065550001");
        assertThat(records.get(0).intendedAt()).isEqualTo(T0);
    }

    @Test
    void recordPlaced_setsTransactionIdAndTime_andFirstOneStands() {
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1))).block(WAIT);
        ledger.recordPlaced("a1", "tx-1", T0.plusMillis(250)).block(WAIT);
        ledger.recordPlaced("a1", "tx-other", T0.plusMillis(900)).block(WAIT);

        AttemptRecord byTx = ledger.findByTransactionId("tx-1").block(WAIT);
        assertThat(byTx).isNotNull();
        assertThat(byTx.attemptId()).isEqualTo("a1");
        assertThat(byTx.transactionId()).isEqualTo("tx-1");
        assertThat(byTx.placedAt()).isEqualTo(T0.plusMillis(250));
        assertThat(byTx.result()).isNull();
        assertThat(ledger.findByTransactionId("tx-other").block(WAIT)).isNull();
        assertThat(ledger.findAttempt("a1").block(WAIT)).isEqualTo(byTx);
    }

    @Test
    void recordPlaced_withoutIntent_isIgnored() {
        ledger.recordPlaced("ghost", "tx-9", T0).block(WAIT);

        assertThat(ledger.findByTransactionId("tx-9").block(WAIT)).isNull();
        assertThat(ledger.stats().opsCommitted()).isEqualTo(1);
    }

    @Test
    void recordResult_twice_keepsTheFirstResult() {
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1))).block(WAIT);
        ledger.recordPlaced("a1", "tx-1", T0.plusMillis(250)).block(WAIT);
        CallResult first = result("a1", "tx-1", Disposition.BUSY, 486);
        ledger.recordResult(first).block(WAIT);
        ledger.recordResult(result("a1", "tx-1", Disposition.ANSWERED, null)).block(WAIT);

        AttemptRecord record = ledger.findAttempt("a1").block(WAIT);
        assertThat(record).isNotNull();
        assertThat(record.result()).isEqualTo(first);
        assertThat(ledger.contacts(CAMPAIGN).collectList().block(WAIT)).containsExactly(
                new ContactProgress(CAMPAIGN, "c1", "+12065550001", "BUSY", null, 1, "a1", T0.plusSeconds(60)));
    }

    @Test
    void recordResult_knownOutcomeAfterUnknown_replacesIt_onlyOnce_andTheContactFollows() {
        // closed UNKNOWN before its TransactionId was written (a resume, or a Create whose outcome was unknown)
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1))).block(WAIT);
        ledger.recordResult(new CallResult("a1", CAMPAIGN, null, Disposition.UNKNOWN, null, null, null, null, 0,
                T0.plusSeconds(10))).block(WAIT);
        assertThat(ledger.contacts(CAMPAIGN).map(ContactProgress::status).collectList().block(WAIT))
                .containsExactly("UNKNOWN");

        // its HANGUP came after all: the real outcome replaces the UNKNOWN, TransactionId included
        CallResult real = result("a1", "tx-1", Disposition.NO_ANSWER, 480);
        ledger.recordResult(real).block(WAIT);
        // ... and nothing replaces a real outcome: not another one, not an UNKNOWN, not the same one again
        ledger.recordResult(result("a1", "tx-1", Disposition.BUSY, 486)).block(WAIT);
        ledger.recordResult(new CallResult("a1", CAMPAIGN, "tx-1", Disposition.UNKNOWN, null, null, null, null, 0,
                T0.plusSeconds(90))).block(WAIT);
        ledger.recordResult(real).block(WAIT);

        AttemptRecord record = ledger.findAttempt("a1").block(WAIT);
        assertThat(record).isNotNull();
        assertThat(record.result()).isEqualTo(real);
        assertThat(record.transactionId()).isEqualTo("tx-1");
        assertThat(ledger.findByTransactionId("tx-1").block(WAIT)).isEqualTo(record);
        assertThat(ledger.contacts(CAMPAIGN).collectList().block(WAIT)).containsExactly(
                new ContactProgress(CAMPAIGN, "c1", "+12065550001", "NO_ANSWER", null, 1, "a1", T0.plusSeconds(60)));
    }

    @Test
    void recordResult_unknownAndRealOutcomeInOneBatch_realOutcomeStandsWhateverTheOrder() {
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1), attempt("a2", "c2", "+12065550002", 1)))
                .block(WAIT);
        CallResult real1 = result("a1", "tx-1", Disposition.ANSWERED, 0);
        CallResult real2 = result("a2", "tx-2", Disposition.BUSY, 486);
        // submitted together, so that the writer commits them in one batch
        Mono.when(ledger.recordResult(new CallResult("a1", CAMPAIGN, "tx-1", Disposition.UNKNOWN, null, null, null,
                        null, 0, T0)), ledger.recordResult(real1), ledger.recordResult(real2),
                ledger.recordResult(new CallResult("a2", CAMPAIGN, "tx-2", Disposition.UNKNOWN, null, null, null,
                        null, 0, T0))).block(WAIT);

        assertThat(ledger.findAttempt("a1").block(WAIT).result()).isEqualTo(real1);
        assertThat(ledger.findAttempt("a2").block(WAIT).result()).isEqualTo(real2);
        assertThat(ledger.contacts(CAMPAIGN).map(ContactProgress::status).collectList().block(WAIT))
                .containsExactly("ANSWERED", "BUSY");
    }

    @Test
    void recordResult_inOneBatch_theTransactionIdOfAnUnplacedAttemptIsWrittenAfterAResultWithoutOne()
            throws InterruptedException {
        ledger.close();
        HoldFirstCommit holdFirst = new HoldFirstCommit();
        ledger = JdbcLedger.open(options().withListener(holdFirst));
        // neither attempt was placed: the first Create's outcome was unknown and its result has no TransactionId;
        // the second's result brings the TransactionId its HANGUP named
        Mono<Void> intents = ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1),
                attempt("a2", "c2", "+12065550002", 1))).cache();
        intents.subscribe();
        assertThat(holdFirst.firstCommitSeen.await(10, TimeUnit.SECONDS)).isTrue();
        CallResult withoutId = new CallResult("a1", CAMPAIGN, null, Disposition.UNKNOWN, null, null, null, null, 0,
                T0.plusSeconds(10));
        CallResult withId = result("a2", "tx-2", Disposition.BUSY, 486);
        Mono<Void> first = ledger.recordResult(withoutId).cache();
        Mono<Void> second = ledger.recordResult(withId).cache();
        first.subscribe();
        second.subscribe();
        holdFirst.release.countDown();
        Mono.when(intents, first, second).block(WAIT);

        assertThat(holdFirst.batchSizes).containsExactly(1, 2);
        assertThat(ledger.findAttempt("a1").block(WAIT).transactionId()).isNull();
        AttemptRecord second2 = ledger.findAttempt("a2").block(WAIT);
        assertThat(second2.result()).isEqualTo(withId);
        assertThat(second2.transactionId()).isEqualTo("tx-2");
        assertThat(ledger.findByTransactionId("tx-2").block(WAIT)).isEqualTo(second2);
    }

    @Test
    void recordPlaced_afterResult_keepsResultAndSetsPlacedTime() {
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1))).block(WAIT);
        CallResult answered = result("a1", "tx-1", Disposition.ANSWERED, null);
        ledger.recordResult(answered).block(WAIT);
        ledger.recordPlaced("a1", "tx-1", T0.plusMillis(300)).block(WAIT);

        AttemptRecord record = ledger.findAttempt("a1").block(WAIT);
        assertThat(record).isNotNull();
        assertThat(record.result()).isEqualTo(answered);
        assertThat(record.transactionId()).isEqualTo("tx-1");
        assertThat(record.placedAt()).isEqualTo(T0.plusMillis(300));
    }

    @Test
    void recordResult_withoutSipCodeOrTransaction_roundTripsNulls() {
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1))).block(WAIT);
        CallResult unknown = new CallResult("a1", CAMPAIGN, null, Disposition.UNKNOWN, null, null, null, null, 0,
                null);
        ledger.recordResult(unknown).block(WAIT);

        AttemptRecord record = ledger.findAttempt("a1").block(WAIT);
        assertThat(record).isNotNull();
        assertThat(record.result()).isEqualTo(unknown);
        assertThat(record.transactionId()).isNull();
    }

    @Test
    void recordSkipped_setsContactState_andKnownContactsIncludesIt() {
        ledger.recordSkipped(CAMPAIGN, "line-7", "12345", "INVALID", "too short").block(WAIT);
        ledger.recordSkipped(CAMPAIGN, "c2", "+12065550002", "SUPPRESSED", "on DNC list dnc.csv").block(WAIT);
        clock.advance(Duration.ofSeconds(1));
        ledger.recordIntents(List.of(attempt("a3", "c3", "+12065550003", 1))).block(WAIT);
        // a skip does not override a live call
        ledger.recordSkipped(CAMPAIGN, "c3", "+12065550003", "DUPLICATE", "dup").block(WAIT);

        assertThat(ledger.contacts(CAMPAIGN).collectList().block(WAIT)).containsExactly(
                new ContactProgress(CAMPAIGN, "c2", "+12065550002", "SUPPRESSED", "on DNC list dnc.csv", 0, null, T0),
                new ContactProgress(CAMPAIGN, "c3", "+12065550003", "IN_PROGRESS", null, 1, "a3",
                        T0.plusSeconds(1)),
                new ContactProgress(CAMPAIGN, "line-7", "12345", "INVALID", "too short", 0, null, T0));
        assertThat(ledger.knownContacts(CAMPAIGN, List.of("c1", "c2", "c3", "line-7", "c4")).block(WAIT))
                .containsExactlyInAnyOrder("c2", "c3", "line-7");
        assertThat(ledger.knownContacts("other", List.of("c2")).block(WAIT)).isEmpty();
    }

    @Test
    void recordWithdrawn_unsentAttempt_contactWaitsAgainWithItsAttemptCount_andTheRedialTakesTheFollowUp() {
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1), attempt("a2", "c2", "+12065550002", 1)))
                .block(WAIT);
        ledger.recordPlaced("a2", "tx-2", T0).block(WAIT);
        clock.advance(Duration.ofSeconds(1));

        ledger.recordWithdrawn(attempt("a1", "c1", "+12065550001", 1), "Region us-east-1 failed", T0.plusSeconds(5))
                .block(WAIT);
        // a placed call is never withdrawn: it may be live
        ledger.recordWithdrawn(attempt("a2", "c2", "+12065550002", 1), "too late", T0.plusSeconds(5)).block(WAIT);

        AttemptRecord a1 = ledger.findAttempt("a1").block(WAIT);
        assertThat(a1.withdrawn()).isTrue();
        assertThat(a1.result()).isNull();
        assertThat(a1.open()).isFalse();
        assertThat(ledger.findAttempt("a2").block(WAIT).open()).isTrue();
        assertThat(ledger.openAttempts(CAMPAIGN).collectList().block(WAIT)).extracting(AttemptRecord::attemptId)
                .containsExactly("a2");
        assertThat(ledger.contacts(CAMPAIGN).collectList().block(WAIT)).containsExactly(
                new ContactProgress(CAMPAIGN, "c1", "+12065550001", "WITHDRAWN", "Region us-east-1 failed", 0, "a1",
                        T0.plusSeconds(1)),
                new ContactProgress(CAMPAIGN, "c2", "+12065550002", "IN_PROGRESS", null, 1, "a2", T0));
        assertThat(ledger.dueFollowUps(CAMPAIGN, T0.plusSeconds(5)).collectList().block(WAIT)).containsExactly(
                new Ledger.FollowUp(CAMPAIGN, "c1", "+12065550001", 1, T0.plusSeconds(5)));

        // the redial is attempt 1 again, under a new id; its intent takes the follow-up
        ledger.recordIntents(List.of(attempt("a1b", "c1", "+12065550001", 1))).block(WAIT);
        assertThat(ledger.pendingFollowUps(CAMPAIGN).block(WAIT)).isZero();
        assertThat(ledger.contacts(CAMPAIGN).collectList().block(WAIT).get(0))
                .extracting(ContactProgress::status, ContactProgress::attempts, ContactProgress::lastAttemptId)
                .containsExactly("IN_PROGRESS", 1, "a1b");
        // withdrawing the old attempt again (a retried write) reopens nothing: a later attempt was written since
        ledger.recordWithdrawn(attempt("a1", "c1", "+12065550001", 1), "again", T0.plusSeconds(9)).block(WAIT);
        assertThat(ledger.pendingFollowUps(CAMPAIGN).block(WAIT)).isZero();
    }

    @Test
    void contactCounts_byStatus_overTheCampaignsWholeLife() {
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1), attempt("a2", "c2", "+12065550002", 1),
                attempt("a3", "c3", "+12065550003", 1))).block(WAIT);
        ledger.recordResult(result("a1", "tx-1", Disposition.ANSWERED, null)).block(WAIT);
        ledger.recordResult(result("a2", "tx-2", Disposition.ANSWERED, null)).block(WAIT);
        ledger.recordSkipped(CAMPAIGN, "line-9", "12", "INVALID", "too short").block(WAIT);
        ledger.recordSkipped("other", "c1", "+12065550001", "DUPLICATE", "dup").block(WAIT);

        assertThat(ledger.contactCounts(CAMPAIGN).block(WAIT))
                .containsExactlyInAnyOrderEntriesOf(Map.of("ANSWERED", 2L, "IN_PROGRESS", 1L, "INVALID", 1L));
        assertThat(ledger.contactCounts("none").block(WAIT)).isEmpty();
    }

    @Test
    void recordWithdrawnFinal_numberJoinedDncBeforeItsCreate_contactEndsSuppressed() {
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1))).block(WAIT);

        ledger.recordWithdrawnFinal(attempt("a1", "c1", "+12065550001", 1), "SUPPRESSED", "on a DNC list at dial time")
                .block(WAIT);

        assertThat(ledger.findAttempt("a1").block(WAIT).withdrawn()).isTrue();
        assertThat(ledger.openAttempts(CAMPAIGN).collectList().block(WAIT)).isEmpty();
        assertThat(ledger.pendingFollowUps(CAMPAIGN).block(WAIT)).isZero();
        assertThat(ledger.contacts(CAMPAIGN).collectList().block(WAIT)).extracting(ContactProgress::status,
                ContactProgress::attempts).containsExactly(org.assertj.core.groups.Tuple.tuple("SUPPRESSED", 0));
    }

    @Test
    void knownContacts_manyKeys_answersInChunks() {
        List<Attempt> intents = IntStream.range(0, 700)
                .mapToObj(i -> attempt("a" + i, "c" + (i * 2), "+1206555" + String.format("%04d", i), 1))
                .collect(Collectors.toList());
        ledger.recordIntents(intents).block(WAIT);
        List<String> asked = IntStream.range(0, 1400).mapToObj(i -> "c" + i).collect(Collectors.toList());

        Set<String> known = ledger.knownContacts(CAMPAIGN, asked).block(WAIT);

        Set<String> expected = IntStream.range(0, 700).mapToObj(i -> "c" + (i * 2)).collect(Collectors.toSet());
        assertThat(known).hasSize(700).isEqualTo(expected);
    }

    @Test
    void openAttempts_listsIntentsWithoutResult_placedOrNot() {
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1), attempt("a2", "c2", "+12065550002", 1),
                attempt("a3", "c3", "+12065550003", 1))).block(WAIT);
        ledger.recordPlaced("a1", "tx-1", T0).block(WAIT);
        ledger.recordPlaced("a2", "tx-2", T0).block(WAIT);
        ledger.recordResult(result("a2", "tx-2", Disposition.NO_ANSWER, 480)).block(WAIT);

        List<AttemptRecord> open = ledger.openAttempts(CAMPAIGN).collectList().block(WAIT);

        assertThat(open).extracting(AttemptRecord::attemptId, AttemptRecord::transactionId)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("a1", "tx-1"),
                        org.assertj.core.groups.Tuple.tuple("a3", null));
    }

    @Test
    void recordEvent_retriedInvocation_keepsFirst_andEventsComeBySequence() {
        ledger.recordEvent(new Ledger.AttemptEvent("tx-1", 2, "a1", "CALL_ANSWERED", T0.plusSeconds(5), null))
                .block(WAIT);
        ledger.recordEvent(new Ledger.AttemptEvent("tx-1", 1, "a1", "NEW_OUTBOUND_CALL", T0, null)).block(WAIT);
        ledger.recordEvent(new Ledger.AttemptEvent("tx-1", 1, "a1", "RINGING", T0.plusSeconds(1), "retry"))
                .block(WAIT);
        ledger.recordEvent(new Ledger.AttemptEvent("tx-1", 3, "a1", "HANGUP", T0.plusSeconds(40), "sip=200"))
                .block(WAIT);
        ledger.recordEvent(new Ledger.AttemptEvent("tx-2", 1, null, "NEW_OUTBOUND_CALL", T0, null)).block(WAIT);

        assertThat(ledger.events("tx-1").collectList().block(WAIT)).containsExactly(
                new Ledger.AttemptEvent("tx-1", 1, "a1", "NEW_OUTBOUND_CALL", T0, null),
                new Ledger.AttemptEvent("tx-1", 2, "a1", "CALL_ANSWERED", T0.plusSeconds(5), null),
                new Ledger.AttemptEvent("tx-1", 3, "a1", "HANGUP", T0.plusSeconds(40), "sip=200"));
        assertThat(ledger.events("tx-2").collectList().block(WAIT))
                .containsExactly(new Ledger.AttemptEvent("tx-2", 1, null, "NEW_OUTBOUND_CALL", T0, null));
    }

    @Test
    void open_databaseMissingAMigration_appliesOnlyThatOne() throws SQLException {
        ledger.addDnc("l", "+12065550001", T0).block(WAIT);
        ledger.close();
        try (Connection connection = raw(); Statement statement = connection.createStatement()) {
            // back to the state a dialer without V3 left
            statement.execute("DROP TABLE attempt_events");
            statement.execute("DELETE FROM schema_version WHERE version = 3");
        }
        clock.advance(Duration.ofHours(1));

        ledger = JdbcLedger.open(options());

        assertThat(ledger.dncNumbers("l").collectList().block(WAIT)).containsExactly("+12065550001");
        ledger.recordEvent(new Ledger.AttemptEvent("tx-1", 1, null, "HANGUP", T0, null)).block(WAIT);
        try (Connection connection = raw(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT version, applied_at FROM schema_version ORDER BY version")) {
            assertThat(rows.next()).isTrue();
            assertThat(rows.getLong(2)).isEqualTo(T0.toEpochMilli());
            assertThat(rows.next()).isTrue();
            assertThat(rows.getInt(1)).isEqualTo(3); // V2 and V4 are retired (the cluster's now): never applied
            assertThat(rows.getLong(2)).isEqualTo(T0.plusSeconds(3600).toEpochMilli());
            assertThat(rows.next()).isFalse();
        }
    }

    @Test
    void dnc_addAndRead_roundTripsPerList_keepingFirstAdd() {
        ledger.addDnc("optouts", "+12065550002", T0).block(WAIT);
        ledger.addDnc("optouts", "+12065550001", T0).block(WAIT);
        ledger.addDnc("optouts", "+12065550001", T0.plusSeconds(9)).block(WAIT);
        ledger.addDnc("other", "+12065550003", T0).block(WAIT);

        assertThat(ledger.dncNumbers("optouts").collectList().block(WAIT))
                .containsExactly("+12065550001", "+12065550002");
        assertThat(ledger.dncNumbers("other").collectList().block(WAIT)).containsExactly("+12065550003");
        assertThat(ledger.dncNumbers("none").collectList().block(WAIT)).isEmpty();
    }

    @Test
    void followUps_dueUpTo_inDueOrder_andTakenOnesDisappear() {
        ledger.scheduleFollowUp(CAMPAIGN, "c1", "+12065550001", 2, T0.plusSeconds(600)).block(WAIT);
        ledger.scheduleFollowUp(CAMPAIGN, "c2", "+12065550002", 2, T0.plusSeconds(60)).block(WAIT);
        ledger.scheduleFollowUp(CAMPAIGN, "c3", "+12065550003", 3, T0.plusSeconds(7200)).block(WAIT);
        // scheduling again keeps the first time
        ledger.scheduleFollowUp(CAMPAIGN, "c2", "+12065550002", 2, T0.plusSeconds(5)).block(WAIT);
        ledger.scheduleFollowUp("other", "c9", "+12065550009", 2, T0).block(WAIT);

        assertThat(ledger.dueFollowUps(CAMPAIGN, T0.plusSeconds(600)).collectList().block(WAIT)).containsExactly(
                new FollowUp(CAMPAIGN, "c2", "+12065550002", 2, T0.plusSeconds(60)),
                new FollowUp(CAMPAIGN, "c1", "+12065550001", 2, T0.plusSeconds(600)));
        assertThat(ledger.pendingFollowUps(CAMPAIGN).block(WAIT)).isEqualTo(3L);

        // taking by intent (same transaction) and by hand
        ledger.recordIntents(List.of(attempt("a2", "c2", "+12065550002", 2))).block(WAIT);
        ledger.markFollowUpTaken(CAMPAIGN, "c3", 3, T0).block(WAIT);

        assertThat(ledger.dueFollowUps(CAMPAIGN, T0.plusSeconds(99_999)).collectList().block(WAIT)).containsExactly(
                new FollowUp(CAMPAIGN, "c1", "+12065550001", 2, T0.plusSeconds(600)));
        assertThat(ledger.pendingFollowUps(CAMPAIGN).block(WAIT)).isEqualTo(1L);
    }

    @Test
    void campaigns_upsertAndState_roundTrip() {
        ledger.upsertCampaign(CAMPAIGN, "{\"v\":1}", T0).block(WAIT);
        assertThat(ledger.campaign(CAMPAIGN).block(WAIT))
                .isEqualTo(new CampaignRecord(CAMPAIGN, "{\"v\":1}", CampaignState.RUNNING, T0, T0));

        ledger.setCampaignState(CAMPAIGN, CampaignState.PAUSED, T0.plusSeconds(1)).block(WAIT);
        ledger.upsertCampaign(CAMPAIGN, "{\"v\":2}", T0.plusSeconds(2)).block(WAIT);
        ledger.upsertCampaign("alpha", null, T0).block(WAIT);

        assertThat(ledger.campaigns().collectList().block(WAIT)).containsExactly(
                new CampaignRecord("alpha", null, CampaignState.RUNNING, T0, T0),
                new CampaignRecord(CAMPAIGN, "{\"v\":2}", CampaignState.PAUSED, T0, T0.plusSeconds(2)));
        assertThat(ledger.campaign("missing").block(WAIT)).isNull();
    }

    @Test
    void setCampaignState_unknownCampaign_failsAloneWithoutSpoilingTheBatch() {
        ledger.upsertCampaign(CAMPAIGN, null, T0).block(WAIT);
        Mono<Void> bad = ledger.setCampaignState("missing", CampaignState.CANCELLED, T0);
        Mono<Void> good = ledger.setCampaignState(CAMPAIGN, CampaignState.COMPLETED, T0);

        assertThatThrownBy(() -> bad.block(WAIT)).isInstanceOf(LedgerException.class).hasMessageContaining("missing");
        good.block(WAIT);
        assertThat(ledger.campaign(CAMPAIGN).block(WAIT).state()).isEqualTo(CampaignState.COMPLETED);
        assertThat(ledger.stats().opsFailed()).isEqualTo(1);
    }

    @Test
    void transitionCampaignState_sameStateTwice_onlyTheFirstChangesIt() {
        ledger.upsertCampaign(CAMPAIGN, null, T0).block(WAIT);

        assertThat(ledger.transitionCampaignState(CAMPAIGN, CampaignState.COMPLETED, T0.plusSeconds(1)).block(WAIT))
                .isTrue();
        assertThat(ledger.transitionCampaignState(CAMPAIGN, CampaignState.COMPLETED, T0.plusSeconds(2)).block(WAIT))
                .isFalse();
        assertThat(ledger.campaign(CAMPAIGN).block(WAIT))
                .isEqualTo(new CampaignRecord(CAMPAIGN, null, CampaignState.COMPLETED, T0, T0.plusSeconds(1)));
        assertThat(ledger.transitionCampaignState(CAMPAIGN, CampaignState.RUNNING, T0.plusSeconds(3)).block(WAIT))
                .isTrue();
        assertThatThrownBy(() -> ledger.transitionCampaignState("missing", CampaignState.PAUSED, T0).block(WAIT))
                .isInstanceOf(LedgerException.class).hasMessageContaining("missing");
    }

    @Test
    void writeCsv_exportsOneRowPerAttemptWithHeader_exactly() {
        ledger.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1), attempt("a2", "c,2", "+12065550002", 1),
                attempt("a3", "c3", "+12065550003", 1))).block(WAIT);
        ledger.recordPlaced("a1", "tx-1", T0.plusMillis(250)).block(WAIT);
        ledger.recordPlaced("a2", "tx-2", T0.plusMillis(260)).block(WAIT);
        ledger.recordResult(result("a1", "tx-1", Disposition.ANSWERED, null)).block(WAIT);
        ledger.recordResult(new CallResult("a2", CAMPAIGN, "tx-2", Disposition.BUSY, 486, Duration.ofMillis(1500),
                null, "say \"hi\"", 2, T0.plusSeconds(3))).block(WAIT);
        // a1's first failed action is its export's action_failure; a later one and other events are not.
        ActionFailure denied = new ActionFailure("Speak", "AccessDenied", "Polly: not authorized, role missing");
        ledger.recordEvent(new Ledger.AttemptEvent("tx-1", 4, "a1", "ACTION_FAILED", T0.plusSeconds(6),
                denied.detail())).block(WAIT);
        ledger.recordEvent(new Ledger.AttemptEvent("tx-1", 3, "a1", "CALL_ANSWERED", T0.plusSeconds(5), null))
                .block(WAIT);
        ledger.recordEvent(new Ledger.AttemptEvent("tx-1", 6, "a1", "ACTION_FAILED", T0.plusSeconds(7),
                "Hangup failed: SystemException")).block(WAIT);
        StringWriter out = new StringWriter();

        Long rows = LedgerExport.writeCsv(ledger.attempts(CAMPAIGN), out).block(WAIT);

        assertThat(rows).isEqualTo(3L);
        assertThat(ledger.attempts(CAMPAIGN).collectList().block(WAIT)).extracting(a -> a.result() == null ? null
                : a.result().actionFailure()).containsExactly(denied, null, null);
        assertThat(out.toString()).isEqualTo(
                "attempt_id,contact_id,number,attempt_number,region,from_number,transaction_id,intended_at,"
                        + "placed_at,ended_at,disposition,sip_code,ring_ms,talk_ms,digits,invocations,action_failure\r\n"
                        + "a1,c1,+12065550001,1,us-east-1,+12065550100,tx-1,2026-01-02T03:04:05.678Z,"
                        + "2026-01-02T03:04:05.928Z,2026-01-02T03:05:05.678Z,ANSWERED,,4200,31500,1#,7,"
                        + "\"Speak failed: AccessDenied: Polly: not authorized, role missing\"\r\n"
                        + "a2,\"c,2\",+12065550002,1,us-east-1,+12065550100,tx-2,2026-01-02T03:04:05.678Z,"
                        + "2026-01-02T03:04:05.938Z,2026-01-02T03:04:08.678Z,BUSY,486,1500,0,\"say \"\"hi\"\"\",2,\r\n"
                        + "a3,c3,+12065550003,1,us-east-1,+12065550100,,2026-01-02T03:04:05.678Z,,,,,,,,,\r\n");
    }

    @Test
    void open_again_appliesNoMigrationTwice() throws SQLException {
        ledger.close();
        ledger = JdbcLedger.open(options());
        ledger.close();
        ledger = JdbcLedger.open(options());

        int expected = MigrationRunner.load("sqlite").size();
        try (Connection connection = raw(); Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT version, description FROM schema_version ORDER BY version")) {
            List<String> versions = new ArrayList<>();
            while (rows.next()) {
                versions.add(rows.getInt(1) + ":" + rows.getString(2));
            }
            // V2 and V4 are retired: the cluster's tables come with the cluster's own migrations
            assertThat(versions).hasSize(expected - 2).containsExactly("1:V1__init.sql", "3:V3__attempt_events.sql");
        }
    }

    @Test
    void writes_manyConcurrent_allCommittedAndCounted() {
        int n = 300;
        List<Mono<Void>> writes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            writes.add(ledger.recordIntents(List.of(attempt("a" + i, "c" + i, "+1206555" + String.format("%04d", i), 1))));
        }
        Flux.merge(writes).then().block(WAIT);

        LedgerStats stats = ledger.stats();
        assertThat(stats.opsCommitted()).isEqualTo(n);
        assertThat(stats.batches()).isBetween(1L, (long) n);
        assertThat(stats.queueDepth()).isZero();
        assertThat(ledger.queueDepth()).isZero();
        assertThat(ledger.attempts(CAMPAIGN).count().block(WAIT)).isEqualTo(n);
    }

    @Test
    void writes_queuedDuringACommit_areCommittedTogetherInBatchesOfAtMostMaxBatch() throws InterruptedException {
        ledger.close();
        HoldFirstCommit holdFirst = new HoldFirstCommit();
        ledger = JdbcLedger.open(options().withMaxBatch(50).withListener(holdFirst));
        Mono<Void> first = ledger.addDnc("l", "+19999999999", T0).cache();
        first.subscribe();
        assertThat(holdFirst.firstCommitSeen.await(10, TimeUnit.SECONDS)).isTrue();
        List<Mono<Void>> queued = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            Mono<Void> write = ledger.addDnc("l", "+1000000" + String.format("%04d", i), T0).cache();
            write.subscribe();
            queued.add(write);
        }
        assertThat(ledger.queueDepth()).isEqualTo(120);
        holdFirst.release.countDown();
        Flux.merge(queued).then().block(WAIT);

        assertThat(holdFirst.batchSizes).containsExactly(1, 50, 50, 20);
        assertThat(ledger.dncNumbers("l").count().block(WAIT)).isEqualTo(121L);
    }

    @Test
    void write_afterClose_failsWithLedgerException() {
        ledger.close();

        assertThatThrownBy(() -> ledger.addDnc("l", "+12065550001", T0).block(WAIT))
                .isInstanceOf(LedgerException.class).hasMessageContaining("closed");
        ledger = null;
    }

    @Test
    void recordIntents_largeBatch_allDurableWithTheirContacts() {
        List<Attempt> intents = new ArrayList<>();
        Set<String> keys = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            intents.add(attempt("a" + i, "c" + i, "+1206555" + String.format("%04d", i), 1));
            keys.add("c" + i);
        }
        ledger.recordIntents(intents).block(WAIT);

        assertThat(ledger.attempts(CAMPAIGN).count().block(WAIT)).isEqualTo(2000L);
        assertThat(ledger.contacts(CAMPAIGN).map(ContactProgress::contactKey).collect(Collectors.toSet()).block(WAIT))
                .isEqualTo(keys);
    }

    /** Holds the writer thread in its first commit until released: what is written meanwhile forms one batch. */
    private static final class HoldFirstCommit implements LedgerListener {
        final CountDownLatch firstCommitSeen = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final List<Integer> batchSizes = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public void onCommit(int ops, Duration commitLatency, Duration maxWait) {
            batchSizes.add(ops);
            if (batchSizes.size() == 1) {
                firstCommitSeen.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS); // holds the writer thread
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
