package dev.tailor.serve;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashSet;
import java.util.Properties;
import java.util.Set;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps a server's snapshot of a PostgreSQL registry in step with the other servers on it: one connection of its own
 * {@code LISTEN}s on {@link Database#CHANNEL}, on which every change to an adapter name sends the name when its
 * transaction commits, and a thread blocks in pgjdbc's {@link PGConnection#getNotifications(int)} and hands each
 * name it receives to {@code changed} (null: reread everything). Nothing reads the registry's tables while nothing
 * changes.
 *
 * <p>Whenever the connection is (re)made, before waiting, {@code changed} is given null: a change committed while
 * nothing listened sent its name to nobody. A lost connection is made again after a pause that doubles from 100 ms to
 * 5 s while the database stays away; the connection is checked (a round trip, not a query of the registry) after
 * 30 s without a notification, so a silently dropped one is noticed too.
 */
final class RegistryListener implements AutoCloseable {
    /** What the listening connection calls itself to the database ({@code pg_stat_activity.application_name}). */
    static final String APPLICATION_NAME = "tailor-registry-listener";
    private static final Logger LOG = Logger.getLogger(RegistryListener.class.getName());
    /** How long one wait for notifications lasts before the thread looks whether it should stop. */
    private static final int WAIT_MILLIS = 250;
    /** How long without a notification before the connection is checked. */
    private static final long CHECK_NANOS = 30_000_000_000L;
    private static final long FIRST_PAUSE_MILLIS = 100;
    private static final long LONGEST_PAUSE_MILLIS = 5_000;

    private final String url;
    private final Consumer<String> changed;
    private final Thread thread;
    private volatile boolean closed;

    private RegistryListener(String url, Consumer<String> changed) {
        this.url = url;
        this.changed = changed;
        this.thread = Thread.ofPlatform().name("tailor-registry-listener").daemon().unstarted(this::run);
    }

    /**
     * Starts listening to the PostgreSQL database at {@code url} on a thread of its own; {@code changed} is called
     * on that thread, once for each changed name (null for everything).
     */
    static RegistryListener start(String url, Consumer<String> changed) {
        RegistryListener listener = new RegistryListener(url, changed);
        listener.thread.start();
        return listener;
    }

    private void run() {
        long pause = FIRST_PAUSE_MILLIS;
        boolean lost = false;
        while (!closed) {
            try (Connection c = DriverManager.getConnection(url, properties())) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + Database.CHANNEL);
                }
                if (lost) {
                    LOG.info("listening to the adapter registry again; rereading it");
                }
                pause = FIRST_PAUSE_MILLIS;
                lost = false;
                changed.accept(null);
                listen(c.unwrap(PGConnection.class), c);
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    return;
                }
                if (!lost) {
                    LOG.log(Level.WARNING, "lost the adapter registry's notifications from "
                            + Database.redact(url) + " (" + Database.redact(String.valueOf(e.getMessage()))
                            + "); connecting again", e);
                }
                lost = true;
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException stop) {
                    return;
                }
                pause = Math.min(2 * pause, LONGEST_PAUSE_MILLIS);
            }
        }
    }

    /** The listening connection's name in {@code pg_stat_activity}: {@link #APPLICATION_NAME}. */
    private static Properties properties() {
        Properties p = new Properties();
        p.setProperty("ApplicationName", APPLICATION_NAME);
        return p;
    }

    /** Hands on the names notified on {@code pg} (the connection {@code c}) until closed or the connection fails. */
    private void listen(PGConnection pg, Connection c) throws SQLException {
        long quietSince = System.nanoTime();
        while (!closed) {
            PGNotification[] notes = pg.getNotifications(WAIT_MILLIS);
            if (notes == null || notes.length == 0) {
                if (System.nanoTime() - quietSince > CHECK_NANOS) {
                    if (!c.isValid(5)) {
                        throw new SQLException("the listening connection stopped answering");
                    }
                    quietSince = System.nanoTime();
                }
                continue;
            }
            quietSince = System.nanoTime();
            Set<String> names = new LinkedHashSet<>();
            for (PGNotification n : notes) {
                names.add(n.getParameter());
            }
            if (names.contains("")) {
                changed.accept(null);
            } else {
                names.forEach(changed);
            }
        }
    }

    /** Stops listening: waits for the thread, which notices within {@link #WAIT_MILLIS}, and closes its connection. */
    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
