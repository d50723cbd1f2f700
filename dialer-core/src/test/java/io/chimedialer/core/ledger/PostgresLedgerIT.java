package io.chimedialer.core.ledger;

import io.chimedialer.testkit.PostgresSchema;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chimedialer.core.domain.Attempt;
import java.io.IOException;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import reactor.util.retry.Retry;

/**
 * The ledger contract on PostgreSQL, when {@code DIALER_TEST_POSTGRES_URL} is set (skipped otherwise; a set
 * but unreachable URL fails). Each test gets a schema of its own (the test kit's {@link PostgresSchema}), all
 * dropped at the end of the run.
 */
class PostgresLedgerIT extends LedgerContract {
    private static final List<PostgresSchema> SCHEMAS = new ArrayList<>();
    private static String BASE_URL;

    private String schema;

    @AfterAll
    static void dropSchemas() throws SQLException {
        for (PostgresSchema s : SCHEMAS) {
            s.close();
        }
        SCHEMAS.clear();
    }

    static String withParameter(String url, String parameter) {
        return PostgresSchema.withParameter(url, parameter);
    }

    @Override
    void prepareDatabase() {
        PostgresSchema created = PostgresSchema.create("dialer_test", "PostgreSQL ledger tests");
        SCHEMAS.add(created);
        BASE_URL = PostgresSchema.baseUrl();
        schema = created.name();
    }

    @Override
    LedgerOptions options() {
        return LedgerOptions.of(withParameter(BASE_URL, "currentSchema=" + schema), clock);
    }

    @Override
    Connection raw() throws SQLException {
        return DriverManager.getConnection(withParameter(BASE_URL, "currentSchema=" + schema));
    }

    @Test
    void writes_duringOutage_failUnavailable_thenSucceedWhenTheServerIsBack() throws IOException {
        URI target = URI.create(BASE_URL.substring("jdbc:".length()));
        try (TcpProxy proxy = new TcpProxy(target.getHost(), target.getPort() < 0 ? 5432 : target.getPort())) {
            String proxied = withParameter(BASE_URL.replace(target.getHost() + ":" + target.getPort(),
                    "127.0.0.1:" + proxy.port()), "currentSchema=" + schema);
            LedgerOptions options = LedgerOptions.of(proxied, clock).withConnectTimeout(Duration.ofSeconds(1));
            try (JdbcLedger viaProxy = JdbcLedger.open(options)) {
                viaProxy.recordIntents(List.of(attempt("a1", "c1", "+12065550001", 1))).block(WAIT);

                proxy.cut();
                List<Attempt> next = List.of(attempt("a2", "c2", "+12065550002", 1));
                assertThatThrownBy(() -> viaProxy.recordIntents(next).block(WAIT))
                        .isInstanceOf(LedgerUnavailableException.class)
                        .hasMessageContaining("unreachable")
                        .hasMessageContaining("127.0.0.1:" + proxy.port());

                proxy.start();
                // what the pipeline does: retry the same (idempotent) write with backoff until it commits
                viaProxy.recordIntents(next)
                        .retryWhen(Retry.fixedDelay(40, Duration.ofMillis(250))
                                .filter(LedgerUnavailableException.class::isInstance))
                        .block(WAIT);
            }
        }
        assertThat(ledger.attempts(CAMPAIGN).map(Ledger.AttemptRecord::attemptId).collectList().block(WAIT))
                .containsExactly("a1", "a2");
    }

    @Test
    void open_unreachableServer_failsUnavailableNamingTheUrlWithoutPassword() throws IOException {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/test?user=postgres&password=s3cret";
        assertThatThrownBy(() -> JdbcLedger.open(LedgerOptions.of(url, clock).withConnectTimeout(Duration.ofMillis(500))))
                .isInstanceOf(LedgerUnavailableException.class)
                .hasMessageContaining("127.0.0.1:" + port)
                .hasMessageNotContaining("s3cret");
    }
}
