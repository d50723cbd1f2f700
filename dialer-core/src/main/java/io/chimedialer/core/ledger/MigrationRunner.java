package io.chimedialer.core.ledger;

import io.chimedialer.core.ledger.internal.Backend;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Applies the schema migrations listed in a set's index ({@value #INDEX} for the ledger) that the database has not
 * seen (by version, so a gap left by a migration merged in later is filled), all in one transaction, each with its
 * row in the set's history table ({@code schema_version} for the ledger). Versions in the index increase but need
 * not be contiguous. A database already up to date is not changed.
 *
 * <p>Each history row holds the SHA-256 of its script's statements (comments and blank lines dropped, trailing
 * spaces and line ends normalized): opening refuses a database whose applied script was edited since, naming the
 * script and both checksums. Rows applied before checksums existed get theirs recorded on the next open.
 *
 * <p>An index line {@code <name> retired} keeps a version that no longer belongs to the set (its tables moved to
 * another owner): it is never applied to a new database, its row in an older database stays, and it still counts
 * as a known version.
 */
public final class MigrationRunner {
    static final String INDEX = "db/migration/migrations.txt";
    private static final String LEDGER_ROOT = "db/migration";
    private static final String LEDGER_HISTORY = "schema_version";
    private static final Pattern NAME = Pattern.compile("V(\\d+)__([A-Za-z0-9_]+)\\.sql");
    private static final Pattern HISTORY = Pattern.compile("[a-z_]+");

    /**
     * One migration.
     *
     * @param version    its number
     * @param name       the file name
     * @param statements the SQL statements: the shared file's, then the dialect file's (none when retired)
     * @param retired    listed as retired: never applied (see the class comment)
     */
    record Migration(int version, String name, List<String> statements, boolean retired) {
        Migration(int version, String name, List<String> statements) {
            this(version, name, statements, false);
        }

        /** The SHA-256 (hex) of the statements, each line without trailing spaces, joined by {@code ;\n}. */
        String checksum() {
            StringBuilder text = new StringBuilder();
            for (String statement : statements) {
                for (String line : statement.split("\n")) {
                    text.append(line.stripTrailing()).append('\n');
                }
                text.append(";\n");
            }
            try {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                        .digest(text.toString().getBytes(StandardCharsets.UTF_8)));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is missing from the JVM", e);
            }
        }
    }

    /** The versions a new history table records as applied without running them (an older layout ran them). */
    @FunctionalInterface
    public interface Baseline {
        /**
         * @param connection the migration's connection, inside its transaction
         * @return the versions of this set whose schema is already there
         */
        Set<Integer> applied(Connection connection) throws SQLException;
    }

    /** The steps of a migration transaction on one kind of database. */
    private interface Session {
        void begin(Connection connection) throws SQLException;

        void lock(Connection connection) throws SQLException;

        void commit(Connection connection) throws SQLException;

        void rollback(Connection connection);

        String describe();
    }

    private MigrationRunner() {
    }

    /** The ledger's migrations for a dialect, in order. */
    static List<Migration> load(String dialect) {
        return load(LEDGER_ROOT, dialect, "Ledger");
    }

    /**
     * The migrations of a set, in order: for each name in {@code <root>/migrations.txt}, the statements of
     * {@code <root>/<name>} then of {@code <root>/<dialect>/<name>}, whichever exist.
     */
    static List<Migration> load(String root, String dialect, String label) {
        List<Migration> migrations = new ArrayList<>();
        String indexPath = root + "/migrations.txt";
        String index = resource(indexPath);
        if (index == null) {
            throw new LedgerException(label + " migrations: " + indexPath + " is missing from the classpath");
        }
        int previous = 0;
        for (String line : index.split("\n")) {
            String entry = line.strip();
            if (entry.isEmpty() || entry.startsWith("#")) {
                continue;
            }
            String[] words = entry.split("\\s+");
            String name = words[0];
            boolean retired = words.length == 2 && words[1].equals("retired");
            Matcher matcher = NAME.matcher(name);
            if (!matcher.matches() || (words.length > 1 && !retired)) {
                throw new LedgerException(label + " migrations: bad line '" + entry + "' in " + indexPath);
            }
            int version = Integer.parseInt(matcher.group(1));
            if (version <= previous) {
                throw new LedgerException(label + " migrations: " + name + " follows V" + previous + " in " + indexPath);
            }
            previous = version;
            if (retired) {
                migrations.add(new Migration(version, name, List.of(), true));
                continue;
            }
            String shared = resource(root + "/" + name);
            String specific = resource(root + "/" + dialect + "/" + name);
            if (shared == null && specific == null) {
                throw new LedgerException(label + " migrations: no file for " + name + " (" + dialect + ")");
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
     * Brings the ledger's schema up to date.
     *
     * @param backend    the database
     * @param connection a writer connection
     * @param clock      stamps {@code schema_version.applied_at}
     * @return how many migrations were applied (0 when up to date)
     */
    static int migrate(Backend backend, Connection connection, Clock clock) throws SQLException {
        return migrate(backend, connection, clock, load(backend.dialect()));
    }

    /** Brings the ledger's schema up to these migrations (in increasing version order). */
    static int migrate(Backend backend, Connection connection, Clock clock, List<Migration> migrations)
            throws SQLException {
        Session session = new Session() {
            @Override
            public void begin(Connection c) throws SQLException {
                backend.begin(c);
            }

            @Override
            public void lock(Connection c) throws SQLException {
                backend.lockForMigration(c);
            }

            @Override
            public void commit(Connection c) throws SQLException {
                backend.commit(c);
            }

            @Override
            public void rollback(Connection c) {
                backend.rollbackQuietly(c);
            }

            @Override
            public String describe() {
                return backend.describe();
            }
        };
        return migrate(session, connection, clock, LEDGER_HISTORY, "Ledger", migrations, c -> Set.of());
    }

    /**
     * Brings another schema that lives beside the ledger in a PostgreSQL database (the cluster's) up to date: the
     * migrations listed in {@code <root>/migrations.txt} (files {@code <root>/<name>}, then
     * {@code <root>/postgresql/<name>}), with their own history table, checksummed like the ledger's.
     *
     * @param connection  a connection with auto-commit off; the migrations run in one transaction on it
     * @param root        the scripts' classpath folder, e.g. {@code db/cluster}
     * @param history     the history table (lower case), e.g. {@code cluster_schema_version}
     * @param lockKey     the advisory lock that serializes this set's migrations between processes
     * @param label       the set's name in messages, e.g. {@code Cluster}
     * @param description the database, for messages (without secrets)
     * @param clock       stamps {@code applied_at}
     * @param baseline    asked once, when the history table is empty: the versions already applied by an older
     *                    layout, recorded without running them
     * @return how many migrations were applied (0 when up to date)
     * @throws LedgerException when the database is newer than these scripts or an applied script was edited
     */
    public static int migratePostgres(Connection connection, String root, String history, long lockKey,
                                      String label, String description, Clock clock, Baseline baseline) throws SQLException {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(baseline, "baseline");
        Session session = new Session() {
            @Override
            public void begin(Connection c) {
                // auto-commit is off: the transaction begins with the first statement
            }

            @Override
            public void lock(Connection c) throws SQLException {
                Backend.execute(c, "SELECT pg_advisory_xact_lock(" + lockKey + ")");
            }

            @Override
            public void commit(Connection c) throws SQLException {
                c.commit();
            }

            @Override
            public void rollback(Connection c) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the transaction is abandoned either way; the original error is what matters
                }
            }

            @Override
            public String describe() {
                return description;
            }
        };
        return migrate(session, connection, clock, history, label, load(root, "postgresql", label), baseline);
    }

    private static int migrate(Session session, Connection connection, Clock clock, String history, String label,
                               List<Migration> migrations, Baseline baseline) throws SQLException {
        if (!HISTORY.matcher(history).matches()) {
            throw new IllegalArgumentException("history table name must be lower-case letters and _, was " + history);
        }
        int latest = migrations.isEmpty() ? 0 : migrations.get(migrations.size() - 1).version();
        session.begin(connection);
        try {
            session.lock(connection);
            Backend.execute(connection, "CREATE TABLE IF NOT EXISTS " + history + " ("
                    + "version INTEGER NOT NULL PRIMARY KEY, description VARCHAR(200) NOT NULL, "
                    + "applied_at BIGINT NOT NULL, checksum VARCHAR(64))");
            if (!hasChecksumColumn(connection, history)) {
                // a history from before checksums: the column is added and filled in below (a baseline)
                Backend.execute(connection, "ALTER TABLE " + history + " ADD COLUMN checksum VARCHAR(64)");
            }
            Map<Integer, String> recorded = checksums(connection, history);
            int current = recorded.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
            if (current > latest) {
                throw new LedgerException(label + " database " + session.describe() + ": schema version " + current
                        + " is newer than this dialer's (" + latest + "); use a newer dialer");
            }
            if (recorded.isEmpty()) {
                Set<Integer> adopted = baseline.applied(connection);
                for (Migration migration : migrations) {
                    if (adopted.contains(migration.version()) && !migration.retired()) {
                        record(connection, history, migration, clock);
                        recorded.put(migration.version(), migration.checksum());
                    }
                }
            }
            verify(connection, history, label, session.describe(), migrations, recorded);
            int applied = 0;
            for (Migration migration : migrations) {
                // by set, not by maximum: a migration merged in from another branch below the current
                // version is still applied
                if (recorded.containsKey(migration.version()) || migration.retired()) {
                    continue;
                }
                for (String statement : migration.statements()) {
                    Backend.execute(connection, statement);
                }
                record(connection, history, migration, clock);
                applied++;
            }
            session.commit(connection);
            return applied;
        } catch (SQLException | RuntimeException e) {
            session.rollback(connection);
            throw e;
        }
    }

    /**
     * Refuses an applied script that changed; records the checksum of a row applied before checksums existed.
     */
    private static void verify(Connection connection, String history, String label, String database,
                               List<Migration> migrations, Map<Integer, String> recorded) throws SQLException {
        for (Migration migration : migrations) {
            if (migration.retired() || !recorded.containsKey(migration.version())) {
                continue;
            }
            String was = recorded.get(migration.version());
            String now = migration.checksum();
            if (was == null) {
                try (PreparedStatement update = connection.prepareStatement("UPDATE " + history
                        + " SET checksum = ? WHERE version = ?")) {
                    update.setString(1, now);
                    update.setInt(2, migration.version());
                    update.executeUpdate();
                }
            } else if (!was.equals(now)) {
                throw new LedgerException(label + " database " + database + ": migration " + migration.name()
                        + " was edited after it was applied (checksum applied " + was + ", script now " + now
                        + "); restore the script and put the change in a new migration");
            }
        }
    }

    private static void record(Connection connection, String history, Migration migration, Clock clock)
            throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO " + history
                + " (version, description, applied_at, checksum) VALUES (?, ?, ?, ?)")) {
            insert.setInt(1, migration.version());
            insert.setString(2, migration.name());
            insert.setLong(3, clock.millis());
            insert.setString(4, migration.checksum());
            insert.executeUpdate();
        }
    }

    private static boolean hasChecksumColumn(Connection connection, String history) throws SQLException {
        try (PreparedStatement query = connection.prepareStatement("SELECT * FROM " + history + " WHERE 1 = 0");
             ResultSet rows = query.executeQuery()) {
            ResultSetMetaData meta = rows.getMetaData();
            for (int i = 1; i <= meta.getColumnCount(); i++) {
                if (meta.getColumnName(i).equalsIgnoreCase("checksum")) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Each applied version and its checksum (null when applied before checksums existed). */
    private static Map<Integer, String> checksums(Connection connection, String history) throws SQLException {
        Map<Integer, String> versions = new HashMap<>();
        try (PreparedStatement query = connection.prepareStatement("SELECT version, checksum FROM " + history);
             ResultSet rows = query.executeQuery()) {
            while (rows.next()) {
                versions.put(rows.getInt(1), rows.getString(2));
            }
        }
        return versions;
    }

    /**
     * The ledger's migrations for a dialect that a reader needs applied: every one that is not retired. A ledger
     * missing one was written by an older dialer.
     */
    static List<Integer> requiredVersions(String dialect) {
        return load(dialect).stream().filter(m -> !m.retired()).map(Migration::version).toList();
    }

    /** The versions recorded in the ledger's {@code schema_version}. */
    static Set<Integer> appliedVersions(Connection connection) throws SQLException {
        Set<Integer> versions = new HashSet<>();
        try (PreparedStatement query = connection.prepareStatement("SELECT version FROM " + LEDGER_HISTORY);
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
