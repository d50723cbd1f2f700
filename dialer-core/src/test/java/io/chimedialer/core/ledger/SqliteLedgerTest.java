package io.chimedialer.core.ledger;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.junit.jupiter.api.io.TempDir;

/** The ledger contract on SQLite, a fresh file in a temporary directory per test. */
class SqliteLedgerTest extends LedgerContract {
    @TempDir
    Path dir;

    @Override
    LedgerOptions options() {
        return LedgerOptions.of("jdbc:sqlite:" + dir.resolve("data/dialer.db"), clock);
    }

    @Override
    Connection raw() throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("data/dialer.db"));
    }
}
