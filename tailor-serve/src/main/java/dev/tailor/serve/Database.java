package dev.tailor.serve;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.tailor.adapt.InvalidOptionException;
import org.flywaydb.core.Flyway;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * The registry's database over JDBC, SQLite or PostgreSQL: a connection per unit of work (from a small pool on
 * PostgreSQL, where opening one costs a TCP connection and a SCRAM handshake; a fresh one on SQLite, which opens a
 * file), transactions that roll back when the work fails, and the schema made by Flyway. Failures surface as
 * {@link IllegalStateException}s naming what failed.
 *
 * <p>Every transaction that changes what the registry holds of an adapter name starts with {@link #changing}: it
 * serialises the changes to that name across every server on the database, so a compare-and-set reads what the
 * change before it committed, and (on PostgreSQL) sends the name on {@link #CHANNEL} when the transaction commits,
 * which {@link RegistryListener} turns into a reread on the other replicas.
 */
public final class Database implements AutoCloseable {
    /** The PostgreSQL channel that carries the names of changed adapters; an empty payload means everything. */
    static final String CHANNEL = "tailor_registry";
    /** Connections the pool keeps to PostgreSQL per server (the listener holds one more). */
    private static final int POOL_SIZE = 4;

    /** The SQL the database speaks, where the schema's column types differ. */
    public enum Dialect {
        /** SQLite: a file, one writer at a time. */
        SQLITE("jdbc:sqlite:", "sqlite"),
        /** PostgreSQL: shared by every server and worker on it. */
        POSTGRESQL("jdbc:postgresql:", "postgresql");

        private final String prefix;
        private final String migrations;

        Dialect(String prefix, String migrations) {
            this.prefix = prefix;
            this.migrations = migrations;
        }

        /**
         * Where Flyway finds this dialect's migrations: the scripts both dialects share, and its own where their SQL
         * differs (column types).
         */
        String[] locations() {
            return new String[] {"classpath:db/migration/common", "classpath:db/migration/" + migrations};
        }

        /** The dialect of JDBC URL {@code url}, or null when it is neither. */
        static Dialect of(String url) {
            for (Dialect d : values()) {
                if (url.startsWith(d.prefix)) {
                    return d;
                }
            }
            return null;
        }
    }

    /** Work on a connection. */
    public interface Work<T> {
        /** Does the work on {@code c}. */
        T run(Connection c) throws SQLException;
    }

    private final String url;
    private final Dialect dialect;
    private final String what;
    /** The pool of PostgreSQL connections; null for SQLite. */
    private final HikariDataSource pool;

    private Database(String url, Dialect dialect, String what, HikariDataSource pool) {
        this.url = url;
        this.dialect = dialect;
        this.what = what;
        this.pool = pool;
    }

    /**
     * Opens the database at JDBC URL {@code url} ({@code jdbc:sqlite:FILE} or {@code jdbc:postgresql://…}) and
     * migrates its schema with Flyway: the scripts in {@code db/migration/common} and in the dialect's own folder.
     *
     * @param what what uses it, for messages ({@code "the adapter registry"})
     * @throws InvalidOptionException naming {@code database} for a URL of another database
     * @throws IllegalStateException  naming the database (its password left out) when it cannot be reached or
     *                                migrated
     */
    public static Database open(String url, String what) {
        Dialect dialect = Dialect.of(url);
        if (dialect == null) {
            throw new InvalidOptionException("database", "database must be a jdbc:postgresql://HOST[:PORT]/NAME or "
                    + "jdbc:sqlite:FILE URL, got " + redact(url));
        }
        HikariDataSource pool = null;
        try {
            var flyway = Flyway.configure().locations(dialect.locations());
            if (dialect == Dialect.POSTGRESQL) {
                HikariConfig config = new HikariConfig();
                config.setJdbcUrl(url);
                config.setMaximumPoolSize(POOL_SIZE);
                config.setPoolName("tailor-registry");
                config.addDataSourceProperty("ApplicationName", "tailor-registry");
                pool = new HikariDataSource(config);
                flyway.dataSource(pool);
            } else {
                flyway.dataSource(url, null, null);
            }
            flyway.load().migrate();
        } catch (RuntimeException e) {
            if (pool != null) {
                pool.close();
            }
            throw new IllegalStateException("cannot open " + what + " in " + redact(url) + ": "
                    + redact(String.valueOf(e.getMessage())), e);
        }
        return new Database(url, dialect, what, pool);
    }

    /** {@code text} with the value of any {@code password=} parameter of a JDBC URL in it left out. */
    static String redact(String text) {
        return text.replaceAll("(?i)(password=)[^&\\s]*", "$1***");
    }

    /** The JDBC URL. */
    String url() {
        return url;
    }

    /** The database's dialect. */
    public Dialect dialect() {
        return dialect;
    }

    /** Runs {@code work} on a connection of its own, committing each statement. */
    public <T> T query(Work<T> work) {
        try (Connection c = pool != null ? pool.getConnection() : DriverManager.getConnection(url)) {
            return work.run(c);
        } catch (SQLException e) {
            throw new IllegalStateException(what + " failed: " + e.getMessage(), e);
        }
    }

    /** Runs {@code work} in one transaction, committed when it returns and rolled back when it throws. */
    public <T> T transaction(Work<T> work) {
        return query(c -> {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        });
    }

    /**
     * Runs {@code work}, which only reads, on one snapshot of the database: what one committed change did is seen
     * whole or not at all, whatever commits meanwhile.
     */
    <T> T snapshot(Work<T> work) {
        return query(c -> {
            if (dialect == Dialect.POSTGRESQL) {
                c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                c.setReadOnly(true);
            }
            c.setAutoCommit(false);
            try {
                return work.run(c);
            } finally {
                c.rollback();
            }
        });
    }

    /**
     * Starts a change to adapter name {@code name} in the transaction on {@code c}: takes the name's row of
     * {@code adapter_change} (waiting while another transaction holds it; SQLite takes its one write lock), so the
     * rest of the transaction reads what every earlier change to the name committed; and, on PostgreSQL, sends
     * {@code name} on {@link #CHANNEL} when the transaction commits (nothing is sent when it rolls back).
     */
    void changing(Connection c, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO adapter_change (name, changes) VALUES (?, 1) "
                + "ON CONFLICT (name) DO UPDATE SET changes = adapter_change.changes + 1")) {
            s.setString(1, name);
            s.executeUpdate();
        }
        if (dialect == Dialect.POSTGRESQL) {
            try (PreparedStatement s = c.prepareStatement("SELECT pg_notify(?, ?)")) {
                s.setString(1, CHANNEL);
                s.setString(2, name);
                s.execute();
            }
        }
    }

    /** Closes the pool of connections, if any. */
    @Override
    public void close() {
        if (pool != null) {
            pool.close();
        }
    }
}
