package io.chimedialer.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.chimedialer.core.domain.Disposition;
import io.chimedialer.core.campaign.CampaignConfig;
import io.chimedialer.core.campaign.CampaignLimits;
import io.chimedialer.core.campaign.CampaignSchedule;
import io.chimedialer.core.chime.RegionConfig;
import io.chimedialer.core.campaign.RetryConfig;
import io.chimedialer.core.flow.FlowConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.LocalTime;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    static final Path REFERENCE = Path.of("..", "config", "dialer.yaml");
    static final Path BAD_FIVE = Path.of("src", "test", "resources", "config", "bad-five.yaml");

    @TempDir
    Path dir;

    /** A minimal valid configuration; {@code extra} is appended at the top level. */
    static String minimal(String extra) {
        return """
                regions:
                  us-east-1:
                    sip-media-application-id: sma-1
                    from-numbers: ["+17035552601"]
                """ + extra;
    }

    Path write(String name, String yaml) throws IOException {
        Path f = dir.resolve(name);
        Files.createDirectories(f.getParent());
        Files.writeString(f, yaml);
        return f;
    }

    static ConfigException failure(Path file, Map<String, String> env) {
        return catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file, env));
    }

    static List<String> keyPaths(ConfigException e) {
        return e.problems().stream().map(ConfigProblem::keyPath).toList();
    }

    // ------------------------------------------------------------------ reference configuration

    @Test
    void load_referenceConfigWithEnv_bindsToCoreRecordsWithDocumentedValues() throws Exception {
        DialerConfig c = ConfigLoader.load(REFERENCE, Map.of(
                "DIALER_WEBHOOK_SECRET", "whsec-0123456789", "DIALER_CONTROL_TOKEN", "ctl-token-abcdef"));

        assertThat(c.server().host()).isEqualTo("0.0.0.0");
        assertThat(c.server().port()).isEqualTo(8080);
        assertThat(c.server().webhookSecret().reveal()).isEqualTo("whsec-0123456789");
        assertThat(c.server().controlToken().reveal()).isEqualTo("ctl-token-abcdef");
        assertThat(c.server().tls()).isNull();
        assertThat(c.server().publicUrl()).isNull();
        assertThat(c.ledger().url()).isEqualTo("jdbc:sqlite:./data/dialer.db");

        assertThat(c.regions()).containsOnlyKeys("us-east-1", "us-west-2");
        RegionConfig east = c.regions().get("us-east-1");
        assertThat(east).isEqualTo(new RegionConfig("us-east-1", "5b2b8d5e-0000-4000-8000-00000000e001", 1.0, 1, 10, 5.0,
                List.of("+17035552601", "+17035552602"), null));
        assertThat(c.regions().get("us-west-2").fromNumbers()).containsExactly("+15035552701", "+15035552702");
        assertThat(c.regions().get("us-west-2").endpoint()).isNull();

        assertThat(c.campaignsDir()).isEqualTo(Path.of("..", "config", "campaigns"));
        assertThat(c.campaigns()).containsOnlyKeys("demo");
        CampaignConfig demo = c.campaign("demo").orElseThrow();
        assertThat(demo.name()).isEqualTo("demo");
        assertThat(Path.of(demo.contacts())).isEqualTo(Path.of("..", "config", "samples", "contacts.csv")).exists();
        assertThat(demo.regions()).containsExactly(Map.entry("us-east-1", 2), Map.entry("us-west-2", 1));
        assertThat(demo.defaultRegion()).isEqualTo("US");
        assertThat(demo.callingWindow().start()).isEqualTo(LocalTime.MIDNIGHT);
        assertThat(demo.callingWindow().allDay()).isTrue();
        assertThat(demo.callingWindow().days()).isEqualTo(EnumSet.allOf(DayOfWeek.class));
        assertThat(demo.callingWindow().timezone()).isEqualTo("callee");
        assertThat(demo.retry().rules()).containsOnly(
                Map.entry(Disposition.BUSY, new RetryConfig.Rule(Duration.ofMinutes(10), 3)),
                Map.entry(Disposition.NO_ANSWER, new RetryConfig.Rule(Duration.ofHours(2), 2)));
        assertThat(demo.retry().maxAttemptsPerNumber()).isEqualTo(3);
        assertThat(demo.retry().perNumberWindow()).isEqualTo(Duration.ofHours(24));
        assertThat(demo.dncLists()).containsExactly(Path.of("..", "config", "samples", "dnc.txt").toString());
        assertThat(demo.maxCallLifetime()).isEqualTo(Duration.ofMinutes(10));
        assertThat(demo.reconcileGrace()).isEqualTo(Duration.ofSeconds(30));
        assertThat(demo.redialUnknown()).isFalse();
        assertThat(demo.flow().type()).isEqualTo(FlowConfig.Type.MENU);
        assertThat(demo.flow().callerName()).isEqualTo("Harbor Health");
        assertThat(demo.flow().message().text()).startsWith("Hello {name}, this is {caller-name}").contains("{clinic}");
        assertThat(demo.flow().menu().options()).containsOnlyKeys("1", "2", "9");
        assertThat(demo.flow().menu().options().get("9").action()).isEqualTo(FlowConfig.MenuOption.Action.OPT_OUT);
        assertThat(demo.flow().menu().maxAttempts()).isEqualTo(2);
    }

    @Test
    void load_referenceConfigWithoutEnv_leavesSecretsUnset() throws Exception {
        DialerConfig c = ConfigLoader.load(REFERENCE, Map.of());

        assertThat(c.server().webhookSecret()).isNull();
        assertThat(c.server().controlToken()).isNull();
        assertThat(c.campaigns()).containsOnlyKeys("demo");
    }

    @Test
    void load_referenceConfigWithEnvOverrides_usesThem() throws Exception {
        DialerConfig c = ConfigLoader.load(REFERENCE, Map.of("DIALER_SMA_US_WEST_2", "sma-west",
                "DIALER_LEDGER_URL", "jdbc:postgresql://127.0.0.1:5432/dialer?user=u&password=pw123"));

        assertThat(c.regions().get("us-west-2").sipMediaApplicationId()).isEqualTo("sma-west");
        assertThat(c.ledger().url()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/dialer?user=u&password=pw123");
        assertThat(c.ledger().toString()).doesNotContain("pw123").contains("password=****");
    }

    @Test
    void ledgerJdbcUrl_usernameAndPasswordKeys_reachThePostgresDriver() throws Exception {
        DialerConfig.Ledger keys = new DialerConfig.Ledger("jdbc:postgresql://db:5432/dialer", "dialer",
                Secret.of("p&ss w"));
        DialerConfig.Ledger inUrl = new DialerConfig.Ledger("jdbc:postgresql://db/d?user=u&password=x", "other",
                Secret.of("y"));
        DialerConfig.Ledger sqlite = new DialerConfig.Ledger("jdbc:sqlite:./d.db", "dialer", Secret.of("y"));

        assertThat(keys.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/dialer?user=dialer&password=p%26ss+w");
        assertThat(inUrl.jdbcUrl()).isEqualTo("jdbc:postgresql://db/d?user=u&password=x");
        assertThat(sqlite.jdbcUrl()).isEqualTo("jdbc:sqlite:./d.db");
        assertThat(keys.toString()).doesNotContain("p&ss");
    }

    // ------------------------------------------------------------------ the acceptance item

    @Test
    void load_configWithFiveMistakes_listsAllFiveWithKeyPathsAndLines() {
        ConfigException e = failure(BAD_FIVE, Map.of());

        assertThat(e.problems()).extracting(ConfigProblem::keyPath, ConfigProblem::line).containsExactly(
                org.assertj.core.groups.Tuple.tuple("server.port", 4),
                org.assertj.core.groups.Tuple.tuple("regions.us-east-1.calls-per-secnd", 8),
                org.assertj.core.groups.Tuple.tuple("regions.us-west-2.from-numbers[0]", 12),
                org.assertj.core.groups.Tuple.tuple("campaigns.reminders.regions.eu-west-9", 15),
                org.assertj.core.groups.Tuple.tuple("campaigns.reminders.retry.BUSY.after", 17));
        assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).isEqualTo(BAD_FIVE));
        assertThat(e.problems().get(0).message()).isEqualTo("expected a whole number, was 'eighty'");
        assertThat(e.problems().get(1).message()).isEqualTo("unknown key, did you mean 'calls-per-second'?");
        assertThat(e.problems().get(2).message()).startsWith("not an E.164 number: '5035552701'");
        assertThat(e.problems().get(3).message()).isEqualTo("Region 'eu-west-9' is not defined under regions:, did you mean 'us-west-2'?");
        assertThat(e.problems().get(4).message()).startsWith("not a duration: '10 minutes'");
        assertThat(e.getMessage()).startsWith("5 configuration problems:")
                .contains(BAD_FIVE + ":4: server.port: expected a whole number, was 'eighty'");
    }

    // ------------------------------------------------------------------ environment substitution

    @Test
    void load_envReferences_areSubstitutedBeforeParsingWithTypesAndDefaults() throws Exception {
        Path f = write("dialer.yaml", minimal("""
                server:
                  port: ${PORT}
                  host: ${HOST:-127.0.0.1}
                  public-url: "https://${DOMAIN}/hooks"   # ${UNSET_IN_COMMENT} is not substituted
                ledger:
                  url: jdbc:sqlite:${DATA:-./data}/d.db
                """));

        DialerConfig c = ConfigLoader.load(f, Map.of("PORT", "9090", "DOMAIN", "dialer.example.com"));

        assertThat(c.server().port()).isEqualTo(9090);
        assertThat(c.server().host()).isEqualTo("127.0.0.1");
        assertThat(c.server().publicUrl()).isEqualTo(URI.create("https://dialer.example.com/hooks"));
        assertThat(c.ledger().url()).isEqualTo("jdbc:sqlite:./data/d.db");
    }

    @Test
    void load_pacingRegionFaultAfter_reachesTheCoreSettings_andZeroIsAnErrorAtItsKey() throws Exception {
        Path ok = write("dialer.yaml", minimal("""
                pacing:
                  region-fault-after: 3
                """));
        Path defaults = write("defaults.yaml", minimal(""));
        Path bad = write("bad.yaml", minimal("""
                pacing:
                  region-fault-after: 0
                """));

        assertThat(ConfigLoader.load(ok, Map.of()).pacing().settings().regionFaultAfter()).isEqualTo(3);
        assertThat(ConfigLoader.load(defaults, Map.of()).pacing().regionFaultAfter()).isEqualTo(5);
        assertThat(keyPaths(failure(bad, Map.of()))).containsExactly("pacing.region-fault-after");
    }

    @Test
    void load_pacingWebhookLagThreshold_reachesTheCoreSettings_zeroTurnsItOff_overFiveSecondsIsAnErrorAtItsKey()
            throws Exception {
        Path ok = write("dialer.yaml", minimal("""
                pacing:
                  webhook-lag-threshold: 450ms
                """));
        Path off = write("off.yaml", minimal("""
                pacing:
                  webhook-lag-threshold: 0
                """));
        Path defaults = write("defaults.yaml", minimal(""));
        Path bad = write("bad.yaml", minimal("""
                pacing:
                  webhook-lag-threshold: 6s
                """));

        assertThat(ConfigLoader.load(ok, Map.of()).pacing().settings().webhookLagThreshold())
                .isEqualTo(java.time.Duration.ofMillis(450));
        assertThat(ConfigLoader.load(off, Map.of()).pacing().settings().webhookLagThreshold()).isZero();
        assertThat(ConfigLoader.load(defaults, Map.of()).pacing().settings().webhookLagThreshold())
                .isEqualTo(java.time.Duration.ofMillis(300));
        assertThat(keyPaths(failure(bad, Map.of()))).containsExactly("pacing.webhook-lag-threshold");
    }

    @Test
    void load_spillQueue_offUnlessConfigured_bindsItsSettings_andBadValuesNameTheirKeys() throws Exception {
        Path ok = write("dialer.yaml", minimal("""
                server:
                  spill-queue:
                    url: https://sqs.eu-west-1.amazonaws.com/123456789012/chime-dialer-spill
                    poll-wait: 5s
                    visibility-timeout: 2m
                """));
        Path defaults = write("defaults.yaml", minimal(""));
        Path bad = write("bad.yaml", minimal("""
                server:
                  spill-queue:
                    poll-wait: 30s
                    visibility: 1m
                """));
        Path badWait = write("bad-wait.yaml", minimal("""
                server:
                  spill-queue:
                    url: https://sqs.eu-west-1.amazonaws.com/123456789012/q
                    poll-wait: 30s
                """));

        io.chimedialer.core.spill.SpillSettings spill = ConfigLoader.load(ok, Map.of()).server().spillQueue();
        assertThat(spill.queueUrl()).isEqualTo(URI.create(
                "https://sqs.eu-west-1.amazonaws.com/123456789012/chime-dialer-spill"));
        assertThat(spill.regionOrDefault()).isEqualTo("eu-west-1");
        assertThat(spill.pollWait()).isEqualTo(java.time.Duration.ofSeconds(5));
        assertThat(spill.visibilityTimeout()).isEqualTo(java.time.Duration.ofMinutes(2));
        assertThat(spill.unknownGrace()).isEqualTo(io.chimedialer.core.spill.SpillSettings.DEFAULT_UNKNOWN_GRACE);
        assertThat(ConfigLoader.load(defaults, Map.of()).server().spillQueue()).isNull();
        assertThat(keyPaths(failure(bad, Map.of()))).containsExactlyInAnyOrder("server.spill-queue.url",
                "server.spill-queue.visibility");
        assertThat(failure(badWait, Map.of()).problems()).singleElement().satisfies(p -> {
            assertThat(p.keyPath()).isEqualTo("server.spill-queue.poll-wait");
            assertThat(p.message()).contains("1s to 20s");
        });
    }

    @Test
    void load_notifications_offUnlessConfigured_bindsWithDefaults_secretFromEnvNeverShown() throws Exception {
        Path ok = write("dialer.yaml", minimal("""
                notifications:
                  url: https://hooks.example.com/dialer?token=abc
                  secret: ${NOTIFY_SECRET}
                  max-attempts: 5
                  timeout: 3s
                """));
        Path defaults = write("defaults.yaml", minimal(""));

        DialerConfig.Notifications n = ConfigLoader.load(ok, Map.of("NOTIFY_SECRET", "hush-0123")).notifications();

        assertThat(n.url()).isEqualTo(URI.create("https://hooks.example.com/dialer?token=abc"));
        assertThat(n.secret().reveal()).isEqualTo("hush-0123");
        assertThat(n.maxAttempts()).isEqualTo(5);
        assertThat(n.initialBackoff()).isEqualTo(java.time.Duration.ofSeconds(1));
        assertThat(n.maxBackoff()).isEqualTo(java.time.Duration.ofMinutes(5));
        assertThat(n.timeout()).isEqualTo(java.time.Duration.ofSeconds(3));
        assertThat(n.toString()).doesNotContain("hush").doesNotContain("token=abc")
                .contains("https://hooks.example.com/dialer");
        assertThat(n.describeUrl()).isEqualTo("https://hooks.example.com/dialer");
        assertThat(ConfigLoader.load(defaults, Map.of()).notifications()).isNull();
    }

    @Test
    void load_notificationsMistakes_eachNamesItsKey_andALiteralSecretIsRefused() throws Exception {
        Path missing = write("missing.yaml", minimal("""
                notifications:
                  max-attempts: 0
                  initial-backoff: 10s
                  max-backoff: 1s
                """));
        Path literal = write("literal.yaml", minimal("""
                notifications:
                  url: ftp://hooks.example.com/dialer
                  secret: written-in-the-file
                  retries: 3
                """));
        Path backoff = write("backoff.yaml", minimal("""
                notifications:
                  url: http://127.0.0.1:9000/hook
                  secret: ${NOTIFY_SECRET}
                  initial-backoff: 10s
                  max-backoff: 1s
                """));

        assertThat(keyPaths(failure(missing, Map.of()))).containsExactlyInAnyOrder("notifications.url",
                "notifications.secret", "notifications.max-attempts");
        ConfigException refused = failure(literal, Map.of());
        assertThat(keyPaths(refused)).containsExactlyInAnyOrder("notifications.url", "notifications.secret",
                "notifications.retries");
        assertThat(refused.getMessage()).doesNotContain("written-in-the-file");
        assertThat(failure(backoff, Map.of("NOTIFY_SECRET", "k")).problems()).singleElement().satisfies(p -> {
            assertThat(p.keyPath()).isEqualTo("notifications.max-backoff");
            assertThat(p.message()).contains("initial-backoff");
        });
    }

    @Test
    void load_missingVariableWithoutDefault_isAnErrorNamingTheKeyAndVariable() throws IOException {
        Path f = write("dialer.yaml", minimal("""
                server:
                  port: ${DIALER_PORT}
                ledger: { url: "${LEDGER_URL}" }
                """));

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).extracting(ConfigProblem::keyPath, ConfigProblem::line, ConfigProblem::message)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("server.port", 6,
                                "environment variable DIALER_PORT is not set (and ${DIALER_PORT} has no :-default)"),
                        org.assertj.core.groups.Tuple.tuple("ledger.url", 7,
                                "environment variable LEDGER_URL is not set (and ${LEDGER_URL} has no :-default)"));
    }

    @Test
    void load_escapedDollarAndEmptyDefault_areLiteralAndNull() throws Exception {
        Path f = write("dialer.yaml", minimal("""
                campaigns:
                  c1:
                    regions: [us-east-1]
                    flow: { message: { text: "costs $${PRICE} today" } }
                server: { webhook-secret: "${NOT_SET:-}" }
                """));

        DialerConfig c = ConfigLoader.load(f, Map.of());

        assertThat(c.campaign("c1").orElseThrow().flow().message().text()).isEqualTo("costs ${PRICE} today");
        assertThat(c.server().webhookSecret()).isNull();
    }

    // ------------------------------------------------------------------ secrets

    @Test
    void load_secretFromEnvWithYamlSpecialCharacters_arrivesIntactAndNeverPrints() throws Exception {
        String secret = "s3cr3t: #not-a-comment \"q\" 'x'";
        Path f = write("dialer.yaml", minimal("""
                server:
                  webhook-secret: ${WH}
                  control-token: ${TOKEN}
                """));

        DialerConfig c = ConfigLoader.load(f, Map.of("WH", secret, "TOKEN", "007"));

        assertThat(c.server().webhookSecret().reveal()).isEqualTo(secret);
        assertThat(c.server().controlToken().reveal()).isEqualTo("007");
        assertThat(c.toString()).doesNotContain(secret).doesNotContain("s3cr3t").contains("webhookSecret=****");
        assertThat(c.server().webhookSecret().matches(secret)).isTrue();
        assertThat(c.server().webhookSecret().matches("other")).isFalse();
    }

    @Test
    void load_secretFromFile_isReadWithoutTrailingNewline() throws Exception {
        write("secrets/webhook", "from-a-file\n");
        Path f = write("dialer.yaml", minimal("""
                server:
                  webhook-secret: file:secrets/webhook
                """));

        DialerConfig c = ConfigLoader.load(f, Map.of());

        assertThat(c.server().webhookSecret().reveal()).isEqualTo("from-a-file");
    }

    @Test
    void load_secretsWrittenInTheFileOrAsDefaults_areErrorsThatNeverShowTheValue() throws IOException {
        Path f = write("dialer.yaml", minimal("""
                server:
                  webhook-secret: literal-secret-value
                  control-token: ${TOKEN:-default-token-value}
                  port: ${SECRET_PORT}
                ledger:
                  password: [literal-password-value]
                """));

        ConfigException e = failure(f, Map.of());

        assertThat(keyPaths(e)).containsExactly("server.webhook-secret", "server.control-token", "server.port",
                "ledger.password");
        assertThat(e.problems().get(0).message()).contains("must come from the environment (${NAME}) or a file");
        assertThat(e.problems().get(1).message()).contains("may not have a default value");
        assertThat(e.getMessage()).doesNotContain("literal-secret-value", "default-token-value", "literal-password-value");
    }

    @Test
    void load_missingSecretFile_isReportedAtTheKey() throws IOException {
        Path f = write("dialer.yaml", minimal("""
                server: { control-token: "file:nope.txt" }
                """));

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).singleElement().satisfies(p -> {
            assertThat(p.keyPath()).isEqualTo("server.control-token");
            assertThat(p.message()).startsWith("secret file not found: ").endsWith("nope.txt");
        });
    }

    // ------------------------------------------------------------------ validation

    @Test
    void load_manyMistakes_reportsEachAtItsKeyAndLine() throws IOException {
        Path f = write("dialer.yaml", """
                serverr: {}
                ledger: { url: "mysql://x" }
                regions:
                  us-east-1:
                    sip-media-application-id: sma
                    calls-per-second: 0
                    burst: 1.5
                    max-active-calls: -3
                    from-numbers: ["+17035552601", "+1703555"]
                    endpoint: "ftp://emulator"
                  moon-base:
                    sip-media-application-id: sma
                    from-numbers: ["+17035552601"]
                campaigns:
                  c1:
                    contacts: missing.csv
                    regions: { us-east-1: 0 }
                    default-region: XX
                    calling-window: { hours: "9-17", days: "MON-FUNDAY", timezone: Mars/Olympus }
                    retry:
                      BUZY: { after: 10m, max-attempts: 3 }
                      UNKNOWN: { after: 1h, max-attempts: 2 }
                      NO_ANSWER: { after: 1h }
                    max-call-lifetime: 0s
                    redial-unknown: maybe
                    flow: { mesage: "hi" }
                """);

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).extracting(ConfigProblem::keyPath, ConfigProblem::line).containsExactly(
                org.assertj.core.groups.Tuple.tuple("serverr", 1),
                org.assertj.core.groups.Tuple.tuple("ledger.url", 2),
                org.assertj.core.groups.Tuple.tuple("regions.us-east-1.calls-per-second", 6),
                org.assertj.core.groups.Tuple.tuple("regions.us-east-1.burst", 7),
                org.assertj.core.groups.Tuple.tuple("regions.us-east-1.max-active-calls", 8),
                org.assertj.core.groups.Tuple.tuple("regions.us-east-1.from-numbers[1]", 9),
                org.assertj.core.groups.Tuple.tuple("regions.us-east-1.endpoint", 10),
                org.assertj.core.groups.Tuple.tuple("regions.moon-base", 11),
                org.assertj.core.groups.Tuple.tuple("regions.moon-base.from-numbers[0]", 13),
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.contacts", 16),
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.regions.us-east-1", 17),
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.default-region", 18),
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.calling-window.hours", 19),
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.calling-window.days", 19),
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.calling-window.timezone", 19),
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.retry.BUZY", 21),
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.retry.UNKNOWN", 22),
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.retry.NO_ANSWER.max-attempts", 23),
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.max-call-lifetime", 24),
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.redial-unknown", 25),
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.flow.mesage", 26));
        assertThat(e.problems().get(0).message()).isEqualTo("unknown key, did you mean 'server'?");
        assertThat(e.problems().get(8).message()).isEqualTo("also a from-number of Region us-east-1 (a number belongs to one Region)");
        assertThat(e.problems().get(15).message()).isEqualTo("not a disposition, did you mean 'BUSY'?");
        assertThat(e.problems().get(20).message()).isEqualTo("unknown key, did you mean 'message'?");
    }

    @Test
    void load_reconcileGrace_boundOrDefaultedToTheLifetime() throws Exception {
        Path f = write("dialer.yaml", minimal("""
                campaigns:
                  set: { regions: [us-east-1], reconcile-grace: 45s }
                  unset: { regions: [us-east-1] }
                  shortLife: { regions: [us-east-1], max-call-lifetime: 10s }
                """));

        DialerConfig c = ConfigLoader.load(f, Map.of());

        assertThat(c.campaign("set").orElseThrow().reconcileGrace()).isEqualTo(Duration.ofSeconds(45));
        assertThat(c.campaign("unset").orElseThrow().reconcileGrace()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.campaign("shortLife").orElseThrow().reconcileGrace()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void load_reconcileGraceZeroLongerThanLifetimeOrNotADuration_errorsNamingTheKey() throws IOException {
        Path f = write("dialer.yaml", minimal("""
                campaigns:
                  zero: { regions: [us-east-1], reconcile-grace: 0s }
                  long: { regions: [us-east-1], max-call-lifetime: 30m, reconcile-grace: 2h }
                  word: { regions: [us-east-1], reconcile-grace: soon }
                """));

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).extracting(ConfigProblem::keyPath, ConfigProblem::line).containsExactly(
                org.assertj.core.groups.Tuple.tuple("campaigns.zero.reconcile-grace", 6),
                org.assertj.core.groups.Tuple.tuple("campaigns.long.reconcile-grace", 7),
                org.assertj.core.groups.Tuple.tuple("campaigns.word.reconcile-grace", 8));
        assertThat(e.problems().get(0).message()).isEqualTo("must be > 0: how long an attempt whose Create outcome"
                + " is unknown waits for its call to show up before it ends UNKNOWN");
        assertThat(e.problems().get(1).message()).isEqualTo("must not be longer than max-call-lifetime (30m)");
        assertThat(e.getMessage()).contains("campaigns.word.reconcile-grace");
    }

    @Test
    void load_scheduleCapsAndPriority_bound() throws Exception {
        Path f = write("dialer.yaml", minimal("""
                campaigns:
                  offset:
                    regions: [us-east-1]
                    start: 2026-12-07T09:00:00-05:00
                    end: "2026-12-07T17:30:00-05:00"
                    calls-per-second: 0.5
                    max-active-calls: 4
                    priority: 10
                  zone: { regions: [us-east-1], start: "2026-12-07T09:00[America/New_York]", priority: -2 }
                  plain: { regions: [us-east-1] }
                """));

        DialerConfig c = ConfigLoader.load(f, Map.of());

        CampaignConfig offset = c.campaign("offset").orElseThrow();
        assertThat(offset.schedule().start()).isEqualTo(ZonedDateTime.parse("2026-12-07T09:00:00-05:00"));
        assertThat(offset.schedule().endInstant()).contains(Instant.parse("2026-12-07T22:30:00Z"));
        assertThat(offset.limits()).isEqualTo(new CampaignLimits(0.5, 4, 10));
        CampaignConfig zone = c.campaign("zone").orElseThrow();
        assertThat(zone.schedule().start().getZone()).isEqualTo(ZoneId.of("America/New_York"));
        assertThat(zone.schedule().startInstant()).contains(Instant.parse("2026-12-07T14:00:00Z"));
        assertThat(zone.schedule().end()).isNull();
        assertThat(zone.limits()).isEqualTo(new CampaignLimits(null, null, -2));
        CampaignConfig plain = c.campaign("plain").orElseThrow();
        assertThat(plain.schedule()).isEqualTo(CampaignSchedule.NONE);
        assertThat(plain.limits()).isEqualTo(CampaignLimits.NONE);
    }

    @Test
    void load_badScheduleCapsOrPriority_errorsNamingEachKey() throws IOException {
        Path f = write("dialer.yaml", minimal("""
                campaigns:
                  backwards: { regions: [us-east-1], start: "2026-12-07T17:00Z", end: "2026-12-07T09:00-05:00" }
                  same: { regions: [us-east-1], start: "2026-12-07T14:00Z", end: "2026-12-07T09:00-05:00" }
                  noZone: { regions: [us-east-1], start: "2026-12-07T09:00" }
                  word: { regions: [us-east-1], end: tomorrow }
                  caps: { regions: [us-east-1], calls-per-second: 0, max-active-calls: 0, priority: 1.5 }
                """));

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).extracting(ConfigProblem::keyPath, ConfigProblem::line).containsExactly(
                org.assertj.core.groups.Tuple.tuple("campaigns.backwards.end", 6),
                org.assertj.core.groups.Tuple.tuple("campaigns.same.end", 7),
                org.assertj.core.groups.Tuple.tuple("campaigns.noZone.start", 8),
                org.assertj.core.groups.Tuple.tuple("campaigns.word.end", 9),
                org.assertj.core.groups.Tuple.tuple("campaigns.caps.calls-per-second", 10),
                org.assertj.core.groups.Tuple.tuple("campaigns.caps.max-active-calls", 10),
                org.assertj.core.groups.Tuple.tuple("campaigns.caps.priority", 10));
        assertThat(e.problems().get(0).message()).isEqualTo(
                "must be after start (2026-12-07T17:00Z), was 2026-12-07T09:00-05:00");
        assertThat(e.problems().get(2).message()).startsWith("'2026-12-07T09:00' has no offset or zone");
        assertThat(e.problems().get(3).message()).startsWith("not an ISO-8601 date and time: 'tomorrow'");
        assertThat(e.problems().get(6).message()).startsWith("expected a whole number");
    }

    @Test
    void load_campaignFileWithMistake_namesTheCampaignFileAndPrefixedKeyPath() throws IOException {
        Path f = write("dialer.yaml", minimal("campaigns-dir: camps\n"));
        Path campaign = write("camps/spring.yaml", """
                regions:
                  us-east-1: 1
                calling-window:
                  hourz: "09:00-17:00"
                """);
        write("camps/ok.yml", "regions: [us-east-1]\n");

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).singleElement().satisfies(p -> {
            assertThat(p.file()).isEqualTo(campaign);
            assertThat(p.keyPath()).isEqualTo("campaigns.spring.calling-window.hourz");
            assertThat(p.line()).isEqualTo(4);
            assertThat(p.message()).isEqualTo("unknown key, did you mean 'hours'?");
        });
    }

    @Test
    void load_campaignsDir_readsEachFileAsTheCampaignOfItsName() throws Exception {
        write("samples/list.csv", "phone\n+12125552368\n");
        Path f = write("dialer.yaml", minimal("campaigns-dir: camps\n"));
        write("camps/spring.yaml", """
                contacts: ../samples/list.csv
                regions: [us-east-1]
                calling-window: { hours: "21:00-08:00", days: [MON-WED, FRI], timezone: America/Chicago }
                """);

        DialerConfig c = ConfigLoader.load(f, Map.of());

        CampaignConfig spring = c.campaign("spring").orElseThrow();
        assertThat(Path.of(spring.contacts())).isEqualTo(dir.resolve("samples/list.csv"));
        assertThat(spring.regions()).containsExactly(Map.entry("us-east-1", 1));
        assertThat(spring.callingWindow().start()).isEqualTo(LocalTime.of(21, 0));
        assertThat(spring.callingWindow().end()).isEqualTo(LocalTime.of(8, 0));
        assertThat(spring.callingWindow().days()).containsExactly(
                DayOfWeek.MONDAY, DayOfWeek.TUESDAY, DayOfWeek.WEDNESDAY, DayOfWeek.FRIDAY);
        assertThat(spring.callingWindow().timezone()).isEqualTo("America/Chicago");
        assertThat(spring.retry()).isEqualTo(RetryConfig.NONE);
    }

    @Test
    void load_duplicateKeyAndMissingRegions_areBothReported() throws IOException {
        Path f = write("dialer.yaml", """
                server:
                  port: 1
                  port: 2
                """);

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).extracting(ConfigProblem::keyPath, ConfigProblem::line).containsExactly(
                org.assertj.core.groups.Tuple.tuple("regions", 0),
                org.assertj.core.groups.Tuple.tuple("server.port", 3));
    }

    @Test
    void load_yamlSyntaxError_isReportedWithItsLine() throws IOException {
        Path f = write("dialer.yaml", "server:\n  port: 1\n bad: [\n");

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).singleElement().satisfies(p -> {
            assertThat(p.message()).startsWith("not valid YAML");
            assertThat(p.line()).isGreaterThanOrEqualTo(2);
        });
    }

    @Test
    void load_syntaxErrorNearASecret_doesNotEchoTheSecret() throws IOException {
        Path f = write("dialer.yaml", "server:\n  webhook-secret: ${S} [\n  port: {1\n");

        ConfigException e = failure(f, Map.of("S", "zz-top-secret-zz"));

        assertThat(e.problems()).singleElement().extracting(ConfigProblem::message).asString().startsWith("not valid YAML");
        assertThat(e.getMessage()).doesNotContain("zz-top-secret-zz");
    }

    @Test
    void load_unquotedE164Numbers_areKeptAsWrittenNotReadAsIntegers() throws Exception {
        Path f = write("dialer.yaml", """
                regions:
                  us-east-1:
                    sip-media-application-id: sma
                    from-numbers: [+17035552601, +17035552602]
                """);

        DialerConfig c = ConfigLoader.load(f, Map.of());

        assertThat(c.regions().get("us-east-1").fromNumbers()).containsExactly("+17035552601", "+17035552602");
    }

    @Test
    void parseCampaign_jsonBodyAgainstLoadedRegions_bindsWithoutEnvSubstitution() throws Exception {
        DialerConfig config = ConfigLoader.load(REFERENCE, Map.of());
        String body = "{\"regions\": {\"us-west-2\": 1}, \"flow\": {\"message\": {\"text\": \"Hi ${DIALER_WEBHOOK_SECRET}\"}}}";

        CampaignConfig c = ConfigLoader.parseCampaign("api-1", body, Path.of("request"), config);

        assertThat(c.name()).isEqualTo("api-1");
        assertThat(c.regions()).containsExactly(Map.entry("us-west-2", 1));
        assertThat(c.flow().message().text()).isEqualTo("Hi ${DIALER_WEBHOOK_SECRET}");
    }

    @Test
    void parseCampaign_mistakes_areReportedWithPrefixedKeyPaths() throws Exception {
        DialerConfig config = ConfigLoader.load(REFERENCE, Map.of());

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parseCampaign("api-1",
                "regions: { eu-west-1: 1 }\nretry: { BUSY: { after: soon, max-attempts: 2 } }\n", Path.of("request"), config));

        assertThat(e.problems()).extracting(ConfigProblem::file, ConfigProblem::keyPath, ConfigProblem::line).containsExactly(
                org.assertj.core.groups.Tuple.tuple(Path.of("request"), "campaigns.api-1.regions.eu-west-1", 1),
                org.assertj.core.groups.Tuple.tuple(Path.of("request"), "campaigns.api-1.retry.BUSY.after", 2));
    }

    @Test
    void load_missingFile_isOneProblem() {
        ConfigException e = failure(dir.resolve("nope.yaml"), Map.of());

        assertThat(e.problems()).singleElement().extracting(ConfigProblem::message).isEqualTo("file not found");
    }

    @Test
    void load_flowWithWrongType_isReportedAtTheFlowKey() throws IOException {
        Path f = write("dialer.yaml", minimal("""
                campaigns:
                  c1:
                    regions: [us-east-1]
                    flow:
                      message: [a, b]
                """));

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).singleElement().satisfies(p -> {
            assertThat(p.keyPath()).isEqualTo("campaigns.c1.flow.message");
            assertThat(p.message()).isEqualTo("expected a mapping here");
        });
    }

    @Test
    void load_flowWithNestedMistakes_reportsEachUnknownKeyAtItsPath() throws IOException {
        Path f = write("dialer.yaml", minimal("""
                campaigns:
                  c1:
                    regions: [us-east-1]
                    flow:
                      type: menu
                      message: { txt: "hi" }
                      menu:
                        prompt: { text: "Press 1" }
                        options:
                          "1": { acton: confirm }
                """));

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).extracting(ConfigProblem::keyPath, ConfigProblem::line, ConfigProblem::message)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("campaigns.c1.flow.message.txt", 10,
                                "unknown key, did you mean 'text'?"),
                        org.assertj.core.groups.Tuple.tuple("campaigns.c1.flow.menu.options.1.acton", 14,
                                "unknown key, did you mean 'action'?"));
    }

    @Test
    void load_flowRejectedByItsConstructor_isReportedWithItsReason() throws IOException {
        Path f = write("dialer.yaml", minimal("""
                campaigns:
                  c1:
                    regions: [us-east-1]
                    flow:
                      type: menu
                      message: { text: "hi" }
                  c2:
                    regions: [us-east-1]
                    flow: { type: menux, message: { text: "hi" } }
                """));

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).extracting(ConfigProblem::keyPath, ConfigProblem::message).containsExactly(
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.flow", "flow.menu is required when flow.type is menu"),
                org.assertj.core.groups.Tuple.tuple("campaigns.c2.flow.type", "expected one of message, menu"));
    }

    @Test
    void load_flowVoiceEngineLanguageOrSsmlWrong_eachReportedAtItsKeyWithItsLine() throws IOException {
        Path f = write("dialer.yaml", minimal("""
                campaigns:
                  c1:
                    regions: [us-east-1]
                    flow:
                      voice: { voice-id: Joanna, language-code: fr-FR }
                      message: { text: "Bonjour" }
                  c2:
                    regions: [us-east-1]
                    flow:
                      voice: { voice-id: Matthew, engine: standard }
                      message: { text: "Hi" }
                  c3:
                    regions: [us-east-1]
                    flow:
                      voice: { text-type: ssml }
                      message: { text: "<speak>Hello <emphasis>{name}</speak>" }
                      goodbye: { text: "<p>Bye</p>" }
                """));

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).extracting(ConfigProblem::keyPath, ConfigProblem::line).containsExactly(
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.flow.voice.language-code", 9),
                org.assertj.core.groups.Tuple.tuple("campaigns.c2.flow.voice.engine", 14),
                org.assertj.core.groups.Tuple.tuple("campaigns.c3.flow.message.text", 20),
                org.assertj.core.groups.Tuple.tuple("campaigns.c3.flow.goodbye.text", 21));
        assertThat(e.problems()).allSatisfy(p -> assertThat(p.file()).isEqualTo(f));
        assertThat(e.problems().get(0).message()).startsWith("Joanna speaks en-US, not 'fr-FR'");
        assertThat(e.problems().get(1).message()).startsWith("Matthew has no standard voice, only neural");
        assertThat(e.problems().get(2).message()).startsWith("not well-formed SSML (line 1, column");
        assertThat(e.problems().get(3).message()).isEqualTo("SSML must have <speak> as its root element, was <p>");
    }

    @Test
    void load_flowAudioWithoutUsableSource_reportedAtTheAudioKey() throws IOException {
        Path f = write("dialer.yaml", minimal("""
                campaigns:
                  c1:
                    regions: [us-east-1]
                    flow:
                      message: { audio: { bucket: My_Prompts, key: hello.wav } }
                  c2:
                    regions: [us-east-1]
                    flow:
                      message: { audio: { key: hello.wav } }
                """));

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).extracting(ConfigProblem::keyPath, ConfigProblem::message).containsExactly(
                org.assertj.core.groups.Tuple.tuple("campaigns.c1.flow.message.audio",
                        "audio.bucket must be an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens,"
                                + " starting and ending with a letter or digit), was 'My_Prompts'"),
                org.assertj.core.groups.Tuple.tuple("campaigns.c2.flow.message.audio",
                        "audio needs a bucket and a key"));
    }

    @Test
    void load_menuOfferingEveryKey_rejectedAtItsOptionsNamingTheKeyToFree() throws IOException {
        StringBuilder options = new StringBuilder();
        for (String key : List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#")) {
            options.append("            \"").append(key).append("\": { action: confirm }\n");
        }
        Path f = write("dialer.yaml", minimal("""
                campaigns:
                  c1:
                    regions: [us-east-1]
                    flow:
                      type: menu
                      menu:
                        prompt: { text: "Press any key" }
                        options:
                """ + options));

        ConfigException e = failure(f, Map.of());

        assertThat(e.problems()).singleElement().satisfies(p -> {
            assertThat(p.keyPath()).isEqualTo("campaigns.c1.flow.menu.options");
            assertThat(p.line()).isEqualTo(12);
            assertThat(p.message()).startsWith("offers every key, \"#\" included").contains("TerminatorDigits")
                    .endsWith("remove one option, e.g. \"#\"");
        });
    }

    @Test
    void load_maxCallLifetimeAbsent_derivedFromTheFlow_explicitWins() throws Exception {
        Path f = write("dialer.yaml", minimal("""
                campaigns:
                  derived:
                    regions: [us-east-1]
                    flow: { message: { text: "Your parcel arrives tomorrow." } }
                  explicit:
                    regions: [us-east-1]
                    max-call-lifetime: 45m
                """));

        DialerConfig c = ConfigLoader.load(f, Map.of());

        CampaignConfig derived = c.campaign("derived").orElseThrow();
        assertThat(derived.maxCallLifetime())
                .isEqualTo(CampaignConfig.derivedMaxCallLifetime(derived.flow()))
                .isLessThan(Duration.ofMinutes(10));
        assertThat(c.campaign("explicit").orElseThrow().maxCallLifetime()).isEqualTo(Duration.ofMinutes(45));
    }

    @Test
    void load_pauseAfterActionFailures_defaultTwentyZeroAllowedNegativeRejected() throws Exception {
        Path ok = write("dialer.yaml", minimal("""
                campaigns:
                  default: { regions: [us-east-1] }
                  never: { regions: [us-east-1], pause-after-action-failures: 0 }
                  five: { regions: [us-east-1], pause-after-action-failures: 5 }
                """));
        Path bad = write("bad.yaml", minimal("""
                campaigns:
                  c1: { regions: [us-east-1], pause-after-action-failures: -1 }
                """));

        DialerConfig c = ConfigLoader.load(ok, Map.of());
        ConfigException e = failure(bad, Map.of());

        assertThat(c.campaign("default").orElseThrow().pauseAfterActionFailures()).isEqualTo(20);
        assertThat(c.campaign("never").orElseThrow().pauseAfterActionFailures()).isZero();
        assertThat(c.campaign("five").orElseThrow().pauseAfterActionFailures()).isEqualTo(5);
        assertThat(keyPaths(e)).containsExactly("campaigns.c1.pause-after-action-failures");
    }
}
