package dev.tailor;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A fresh, empty schema for one test in the PostgreSQL database that the environment variable
 * {@value #ENV} names (a {@code jdbc:postgresql://} URL with user and password; {@code .ci/run} starts a server and
 * sets it), dropped with everything in it by {@link #close()}. Without the variable the calling test is skipped, except
 * under {@code CI=true}, where it fails: CI must run the PostgreSQL tests. Needs the PostgreSQL JDBC driver on the test
 * classpath.
 */
public final class PostgresSchema implements AutoCloseable {
    /** The environment variable with the test database's JDBC URL. */
    public static final String ENV = "TAILOR_TEST_POSTGRES_URL";

    private final String database;
    private final String name;

    private PostgresSchema(String database, String name) {
        this.database = database;
        this.name = name;
    }

    /** Creates a schema of a random name in the test database; skips or fails the calling test without one. */
    public static PostgresSchema create() {
        String database = System.getenv(ENV);
        if (database == null || database.isBlank()) {
            String why = ENV + " is not set: it names the PostgreSQL database for these tests (a jdbc:postgresql:// "
                    + "URL; .ci/run starts a server on 127.0.0.1 and sets it)";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail("CI runs need PostgreSQL: " + why);
            }
            Assumptions.abort("skipped: " + why);
        }
        String name = "test_" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        try (Connection c = DriverManager.getConnection(database); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create a schema in the test database of " + ENV + ": "
                    + e.getMessage(), e);
        }
        return new PostgresSchema(database, name);
    }

    /** The schema's name. */
    public String name() {
        return name;
    }

    /** A JDBC URL of the test database whose connections work in this schema. */
    public String url() {
        return database + (database.contains("?") ? "&" : "?") + "currentSchema=" + name;
    }

    /** A connection working in this schema. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(url());
    }

    /** Drops the schema and everything in it. */
    @Override
    public void close() {
        try (Connection c = DriverManager.getConnection(database); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA " + name + " CASCADE");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot drop test schema " + name + ": " + e.getMessage(), e);
        }
    }
}
