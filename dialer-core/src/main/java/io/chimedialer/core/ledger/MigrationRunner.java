package io.chimedialer.core.ledger;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Applies the schema migrations listed in {@value #INDEX} that the database has not seen (by version, so a
 * gap left by a migration merged in later is filled), all in one transaction, each with its row in
 * {@code schema_version}. Versions in the index increase but need not be contiguous. A database already up
 * to date is not changed.
 */
final class MigrationRunner {
    static final String INDEX = "db/migration/migrations.txt";
    private static final Pattern NAME = Pattern.compile("V(\\d+)__([A-Za-z0-9_]+)\\.sql");

    /**
     * One migration.
     *
     * @param version    its number
     * @param name       the file name
     * @param statements the SQL statements: the shared file's, then the dialect file's
     */
    record Migration(int version, String name, List<String> statements) {
    }

    private MigrationRunner() {
    }

    /** The migrations for a dialect, in order. */
    static List<Migration> load(String dialect) {
        List<Migration> migrations = new ArrayList<>();
        String index = resource(INDEX);
        if (index == null) {
            throw new LedgerException("Ledger migrations: " + INDEX + " is missing from the classpath");
        }
        int previous = 0;
        for (String line : index.split("\n")) {
            String name = line.strip();
            if (name.isEmpty() || name.startsWith("#")) {
                continue;
            }
            Matcher matcher = NAME.matcher(name);
            if (!matcher.matches()) {
                throw new LedgerException("Ledger migrations: bad name " + name + " in " + INDEX);
            }
            int version = Integer.parseInt(matcher.group(1));
            if (version <= previous) {
                throw new LedgerException("Ledger migrations: " + name + " follows V" + previous + " in " + INDEX);
            }
            previous = version;
            String shared = resource("db/migration/" + name);
            String specific = resource("db/migration/" + dialect + "/" + name);
            if (shared == null && specific == null) {
                throw new LedgerException("Ledger migrations: no file for " + name + " (" + dialect + ")");
            }
            List<String> statements = new ArrayList<>();
            if (shared != null) {
                statements.addAll(split(shared));
            }
            if (specific != null) {
                statements.addAll(split(specific));
            }
            migrations.add(new Migration(version, name, List.copyOf(statements)));
        }
        return List.copyOf(migrations);
    }

    /** Splits a script on semicolons that end a line, dropping {@code --} comment lines. */
    static List<String> split(String script) {
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : script.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.startsWith("--") || trimmed.isEmpty()) {
                continue;
            }
            current.append(line).append('\n');
            if (trimmed.endsWith(";")) {
                String statement = current.toString().strip();
                statements.add(statement.substring(0, statement.length() - 1));
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            statements.add(current.toString().strip());
        }
        return statements;
    }

    /**
     * Brings the schema up to date.
     *
     * @param backend    the database
     * @param connection a writer connection
     * @param clock      stamps {@code schema_version.applied_at}
     * @return how many migrations were applied (0 when up to date)
     */
    static int migrate(Backend backend, Connection connection, Clock clock) throws SQLException {
        return migrate(backend, connection, clock, load(backend.dialect()));
    }

    /** Brings the schema up to these migrations (in increasing version order). */
    static int migrate(Backend backend, Connection connection, Clock clock, List<Migration> migrations)
            throws SQLException {
        int latest = migrations.isEmpty() ? 0 : migrations.get(migrations.size() - 1).version();
        backend.begin(connection);
        try {
            backend.lockForMigration(connection);
            Backend.execute(connection, "CREATE TABLE IF NOT EXISTS schema_version ("
                    + "version INTEGER NOT NULL PRIMARY KEY, description VARCHAR(200) NOT NULL, "
                    + "applied_at BIGINT NOT NULL)");
            Set<Integer> done = appliedVersions(connection);
            int current = done.stream().mapToInt(Integer::intValue).max().orElse(0);
            if (current > latest) {
                throw new LedgerException("Ledger database " + backend.describe() + ": schema version " + current
                        + " is newer than this dialer's (" + latest + "); use a newer dialer");
            }
            int applied = 0;
            for (Migration migration : migrations) {
                // by set, not by maximum: a migration merged in from another branch below the current
                // version is still applied
                if (done.contains(migration.version())) {
                    continue;
                }
                for (String statement : migration.statements()) {
                    Backend.execute(connection, statement);
                }
                try (PreparedStatement insert = connection.prepareStatement(
                        "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)")) {
                    insert.setInt(1, migration.version());
                    insert.setString(2, migration.name());
                    insert.setLong(3, clock.millis());
                    insert.executeUpdate();
                }
                applied++;
            }
            backend.commit(connection);
            return applied;
        } catch (SQLException | RuntimeException e) {
            backend.rollbackQuietly(connection);
            throw e;
        }
    }

    static Set<Integer> appliedVersions(Connection connection) throws SQLException {
        Set<Integer> versions = new HashSet<>();
        try (PreparedStatement query = connection.prepareStatement("SELECT version FROM schema_version");
             ResultSet rows = query.executeQuery()) {
            while (rows.next()) {
                versions.add(rows.getInt(1));
            }
        }
        return versions;
    }

    private static String resource(String path) {
        ClassLoader loader = MigrationRunner.class.getClassLoader();
        try (InputStream in = loader.getResourceAsStream(path)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + path, e);
        }
    }
}
