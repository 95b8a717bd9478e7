package dev.tailor.serve;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The registry's metadata in a database, SQLite (a file beside the adapter store) or PostgreSQL (shared by replicas):
 * each adapter name's immutable versions and its aliases ({@code prod}, {@code canary} …), each alias with the history
 * of its moves so a rollback can undo the last one, each version's traffic weight, evaluations and whether it is
 * pinned. The schema is made by Flyway (see {@link Database#open}). Each change is one transaction that first takes
 * the name ({@link Database#changing}), so compare-and-set holds between servers sharing the database, and on
 * PostgreSQL it tells them the name when it commits.
 */
public final class AdapterRegistry implements AutoCloseable {
    /** The alias a plain adapter name resolves to. */
    public static final String PROD = "prod";

    private final Database db;

    private AdapterRegistry(Database db) {
        this.db = db;
    }

    /**
     * Opens (creating or migrating) the SQLite registry database {@code file}.
     *
     * @throws IllegalStateException naming the file when it cannot be opened or migrated
     */
    public static AdapterRegistry open(Path file) {
        return open("jdbc:sqlite:" + file.toAbsolutePath());
    }

    /**
     * Opens (creating or migrating) the registry database at JDBC URL {@code url}: {@code jdbc:sqlite:FILE} or
     * {@code jdbc:postgresql://HOST[:PORT]/NAME}.
     *
     * @throws dev.tailor.adapt.InvalidOptionException naming {@code database} for a URL of another database
     * @throws IllegalStateException                   naming the database when it cannot be reached or migrated
     */
    public static AdapterRegistry open(String url) {
        return new AdapterRegistry(Database.open(url, "the adapter registry"));
    }

    /** The database, for {@link Tenants} in the same one and the {@link RegistryListener}. */
    Database database() {
        return db;
    }

    /** Closes the database's connections. */
    @Override
    public void close() {
        db.close();
    }

    /**
     * What the registry holds of {@code name} (every name when null), in name order: versions, aliases, traffic split
     * and evaluations, read in five queries on one snapshot however many names there are.
     */
    public Map<String, AdapterInfo> infos(String name) {
        return db.snapshot(c -> {
            Map<String, List<AdapterVersion>> versions = new TreeMap<>();
            try (PreparedStatement s = select(c, "SELECT name, version, method, rank, bytes, base_fingerprint, sha256, "
                    + "created, pinned, creator FROM adapter_version WHERE %s ORDER BY name, version", name);
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    versions.computeIfAbsent(r.getString(1), k -> new ArrayList<>()).add(version(r));
                }
            }
            Map<String, Map<String, Integer>> aliases = new HashMap<>();
            try (PreparedStatement s = select(c, "SELECT name, alias, version FROM alias_move m WHERE undone = 0 AND id "
                    + "= (SELECT max(id) FROM alias_move WHERE name = m.name AND alias = m.alias AND undone = 0) AND %s "
                    + "ORDER BY name, alias", name);
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    aliases.computeIfAbsent(r.getString(1), k -> new LinkedHashMap<>()).put(r.getString(2), r.getInt(3));
                }
            }
            Map<String, Integer> revisions = new HashMap<>();
            try (PreparedStatement s = select(c, "SELECT name, revision FROM traffic_split WHERE %s", name);
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    revisions.put(r.getString(1), r.getInt(2));
                }
            }
            Map<String, SortedMap<Integer, Double>> weights = new HashMap<>();
            try (PreparedStatement s = select(c, "SELECT name, version, weight FROM traffic_weight WHERE %s "
                    + "ORDER BY name, version", name);
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    weights.computeIfAbsent(r.getString(1), k -> new TreeMap<>()).put(r.getInt(2), r.getDouble(3));
                }
            }
            Map<String, List<Evaluation>> evaluations = new HashMap<>();
            try (PreparedStatement s = select(c, "SELECT name, version, data, data_sha256, max_examples, format, loss, "
                    + "perplexity, accuracy, tokens, sequences, seconds, evaluated FROM evaluation WHERE %s "
                    + "ORDER BY name, id", name);
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    evaluations.computeIfAbsent(r.getString(1), k -> new ArrayList<>()).add(new Evaluation(
                            r.getInt(2), r.getString(3), r.getString(4), nullableInt(r, 5), r.getString(6),
                            nullableDouble(r, 7), nullableDouble(r, 8), nullableDouble(r, 9), r.getLong(10),
                            r.getInt(11), r.getDouble(12), r.getLong(13)));
                }
            }
            Map<String, AdapterInfo> infos = new TreeMap<>();
            versions.forEach((n, v) -> infos.put(n, new AdapterInfo(n, aliases.getOrDefault(n, Map.of()),
                    List.copyOf(v), new TrafficSplit(revisions.getOrDefault(n, 0),
                    Collections.unmodifiableSortedMap(weights.getOrDefault(n, new TreeMap<>()))),
                    List.copyOf(evaluations.getOrDefault(n, List.of())))));
            return infos;
        });
    }

    /** {@code sql} with its {@code %s} the filter on {@code name} (every row when null), prepared and bound. */
    private static PreparedStatement select(Connection c, String sql, String name) throws SQLException {
        PreparedStatement s = c.prepareStatement(sql.formatted(name == null ? "1 = 1" : "name = ?"));
        if (name != null) {
            s.setString(1, name);
        }
        return s;
    }

    /** The latest version of {@code name}, or 0 when it has none. */
    public int latest(String name) {
        return db.query(c -> latest(c, name));
    }

    private static int latest(Connection c, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT coalesce(max(version), 0) FROM adapter_version "
                + "WHERE name = ?")) {
            s.setString(1, name);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getInt(1) : 0;
            }
        }
    }

    /**
     * Records {@code v} of {@code name} and, when {@code alias} is not null, moves that alias to it: one transaction,
     * in which {@code v} must be the version after the latest.
     *
     * @param expectedVersion the latest version the caller saw, or null when it named none
     * @throws ApiException 409 when another version of {@code name} was recorded since the caller read the latest
     *                      (another server's registration, say), naming both
     */
    public void insert(String name, AdapterVersion v, String alias, Integer expectedVersion) {
        db.transaction(c -> {
            db.changing(c, name);
            int latest = latest(c, name);
            if (latest != v.version() - 1) {
                throw ApiException.conflict("expected_version", expectedVersion != null
                        ? "expected_version is " + expectedVersion + " but the latest version of '" + name + "' is "
                        + latest
                        : "version " + v.version() + " of '" + name + "' was registered meanwhile (the latest is "
                        + latest + "); register again");
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO adapter_version (name, version, sha256, method, "
                    + "rank, bytes, base_fingerprint, created, pinned, creator) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                s.setString(1, name);
                s.setInt(2, v.version());
                s.setString(3, v.sha256());
                s.setString(4, v.method());
                s.setObject(5, v.rank(), Types.INTEGER);
                s.setLong(6, v.bytes());
                s.setString(7, v.baseFingerprint());
                s.setLong(8, v.created());
                s.setInt(9, v.pinned() ? 1 : 0);
                s.setString(10, v.creator());
                s.executeUpdate();
            }
            if (alias != null) {
                insertMove(c, name, alias, v.version(), v.created());
            }
            return null;
        });
    }

    private static void insertMove(Connection c, String name, String alias, int version, long moved)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO alias_move (name, alias, version, moved) "
                + "VALUES (?, ?, ?, ?)")) {
            s.setString(1, name);
            s.setString(2, alias);
            s.setInt(3, version);
            s.setLong(4, moved);
            s.executeUpdate();
        }
    }

    /** The moves of {@code alias} of {@code name} not undone, latest first, at most {@code limit}: {id, version}. */
    private static List<long[]> moves(Connection c, String name, String alias, int limit) throws SQLException {
        List<long[]> moves = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT id, version FROM alias_move WHERE name = ? "
                + "AND alias = ? AND undone = 0 ORDER BY id DESC LIMIT " + limit)) {
            s.setString(1, name);
            s.setString(2, alias);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    moves.add(new long[] {r.getLong(1), r.getInt(2)});
                }
            }
        }
        return moves;
    }

    /**
     * Undoes the last move of {@code alias} of {@code name}, so it points where it did before; answers that version,
     * or 0 (changing nothing) when the alias has no earlier move to go back to.
     *
     * @param expectedVersion when not null, the version the caller saw the alias point at
     * @throws ApiException 409 when the alias points elsewhere, naming both
     */
    public int rollback(String name, String alias, Integer expectedVersion) {
        return db.transaction(c -> {
            db.changing(c, name);
            List<long[]> moves = moves(c, name, alias, 2);
            Integer now = moves.isEmpty() ? null : (int) moves.getFirst()[1];
            if (expectedVersion != null && !expectedVersion.equals(now)) {
                throw ApiException.conflict("expected_version", "expected_version is " + expectedVersion + " but "
                        + alias + " of '" + name + "' is " + (now == null ? "not set" : "version " + now));
            }
            if (moves.size() < 2) {
                return 0;
            }
            try (PreparedStatement s = c.prepareStatement("UPDATE alias_move SET undone = 1 WHERE id = ?")) {
                s.setLong(1, moves.getFirst()[0]);
                s.executeUpdate();
            }
            return (int) moves.get(1)[1];
        });
    }

    /**
     * Moves {@code alias} of {@code name} to {@code version} (one more move, so a rollback can undo it).
     *
     * @param expectedVersion when not null, the version the caller saw the alias point at (0 for unset)
     * @throws ApiException 409 when the alias points elsewhere, naming both
     */
    public void moveAlias(String name, String alias, int version, Integer expectedVersion) {
        db.transaction(c -> {
            db.changing(c, name);
            List<long[]> moves = moves(c, name, alias, 1);
            int now = moves.isEmpty() ? 0 : (int) moves.getFirst()[1];
            if (expectedVersion != null && expectedVersion != now) {
                throw ApiException.conflict("expected_version", "expected_version is " + expectedVersion + " but "
                        + alias + " of '" + name + "' is " + (now == 0 ? "not set (0)" : "version " + now));
            }
            insertMove(c, name, alias, version, System.currentTimeMillis() / 1000);
            return null;
        });
    }

    /**
     * Replaces the traffic split of {@code name} by {@code weights} (empty clears it) as its next revision, in one
     * transaction.
     *
     * @param expectedRevision when not null, the revision the caller saw (0 before the first split)
     * @return the new revision
     * @throws ApiException 409 when the split is at another revision, naming both
     */
    public int setTraffic(String name, Map<Integer, Double> weights, Integer expectedRevision) {
        return db.transaction(c -> {
            db.changing(c, name);
            int revision = 0;
            try (PreparedStatement s = c.prepareStatement("SELECT revision FROM traffic_split WHERE name = ?")) {
                s.setString(1, name);
                try (ResultSet r = s.executeQuery()) {
                    if (r.next()) {
                        revision = r.getInt(1);
                    }
                }
            }
            if (expectedRevision != null && expectedRevision != revision) {
                throw ApiException.conflict("expected_version", "expected_version is " + expectedRevision + " but the "
                        + "traffic split of '" + name + "' is at revision " + revision);
            }
            try (PreparedStatement s = c.prepareStatement("DELETE FROM traffic_weight WHERE name = ?")) {
                s.setString(1, name);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO traffic_weight (name, version, weight) "
                    + "VALUES (?, ?, ?)")) {
                for (Map.Entry<Integer, Double> e : weights.entrySet()) {
                    s.setString(1, name);
                    s.setInt(2, e.getKey());
                    s.setDouble(3, e.getValue());
                    s.executeUpdate();
                }
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO traffic_split (name, revision, changed) "
                    + "VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET revision = excluded.revision, "
                    + "changed = excluded.changed")) {
                s.setString(1, name);
                s.setInt(2, revision + 1);
                s.setLong(3, System.currentTimeMillis() / 1000);
                s.executeUpdate();
            }
            return revision + 1;
        });
    }

    /** Pins or unpins version {@code version} of {@code name}. */
    public void setPinned(String name, int version, boolean pinned) {
        db.transaction(c -> {
            db.changing(c, name);
            try (PreparedStatement s = c.prepareStatement("UPDATE adapter_version SET pinned = ? WHERE name = ? "
                    + "AND version = ?")) {
                s.setInt(1, pinned ? 1 : 0);
                s.setString(2, name);
                s.setInt(3, version);
                s.executeUpdate();
            }
            return null;
        });
    }

    /** Stores an evaluation of a version of {@code name}. */
    public void insertEvaluation(String name, Evaluation e) {
        db.transaction(c -> {
            db.changing(c, name);
            try (PreparedStatement s = c.prepareStatement("INSERT INTO evaluation (name, version, data, data_sha256, "
                    + "max_examples, format, loss, perplexity, accuracy, tokens, sequences, seconds, evaluated) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                s.setString(1, name);
                s.setInt(2, e.version());
                s.setString(3, e.data());
                s.setString(4, e.dataSha256());
                s.setObject(5, e.maxExamples(), Types.INTEGER);
                s.setString(6, e.format());
                s.setObject(7, e.loss(), Types.DOUBLE);
                s.setObject(8, e.perplexity(), Types.DOUBLE);
                s.setObject(9, e.accuracy(), Types.DOUBLE);
                s.setLong(10, e.tokens());
                s.setInt(11, e.sequences());
                s.setDouble(12, e.seconds());
                s.setLong(13, e.evaluated());
                s.executeUpdate();
            }
            return null;
        });
    }

    private static Integer nullableInt(ResultSet r, int column) throws SQLException {
        int v = r.getInt(column);
        return r.wasNull() ? null : v;
    }

    private static Double nullableDouble(ResultSet r, int column) throws SQLException {
        double v = r.getDouble(column);
        return r.wasNull() ? null : v;
    }

    private static AdapterVersion version(ResultSet r) throws SQLException {
        int rank = r.getInt(4);
        Integer rankOrNull = r.wasNull() ? null : rank;
        return new AdapterVersion(r.getInt(2), r.getString(3), rankOrNull, r.getLong(5), r.getString(6),
                r.getString(7), r.getLong(8), r.getString(10), r.getInt(9) != 0, false);
    }
}
