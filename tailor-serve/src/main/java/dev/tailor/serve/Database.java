package dev.tailor.serve;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * The server's SQLite database over JDBC: a connection per unit of work, and transactions that roll back when the
 * work fails. Failures surface as {@link IllegalStateException}s naming what failed.
 */
final class Database {
    /** Work on a connection. */
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private final String url;
    private final String what;

    /**
     * @param url  the JDBC URL
     * @param what what uses it, for messages ({@code "the adapter registry"})
     */
    Database(String url, String what) {
        this.url = url;
        this.what = what;
    }

    /** The JDBC URL. */
    String url() {
        return url;
    }

    /** Runs {@code work} on a fresh connection. */
    <T> T query(Work<T> work) {
        try (Connection c = DriverManager.getConnection(url)) {
            return work.run(c);
        } catch (SQLException e) {
            throw new IllegalStateException(what + " failed: " + e.getMessage(), e);
        }
    }

    /** Runs {@code work} in one transaction, committed when it returns and rolled back when it throws. */
    <T> T transaction(Work<T> work) {
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
}
