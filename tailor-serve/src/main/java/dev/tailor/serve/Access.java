package dev.tailor.serve;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Who may do what. With an admin key, every request but {@code /health} and {@code /ready} needs
 * {@code Authorization: Bearer KEY}: the admin key, or a tenant's (see {@link Tenants}); without one, the server
 * binds loopback only and every caller is the admin. A tenant registers adapters only from under
 * {@code adapterRoots}.
 *
 * @param adminKey     the admin's key, or null for none
 * @param adapterRoots the directories tenants may register adapters from (none: tenants may not register)
 */
public record Access(String adminKey, List<Path> adapterRoots) {

    /** Checks the key and resolves the roots (which must exist) to their real paths. */
    public Access {
        if (adminKey != null && adminKey.isBlank()) {
            throw new IllegalArgumentException("the admin key must not be blank");
        }
        List<Path> real = new ArrayList<>();
        for (Path root : adapterRoots == null ? List.<Path>of() : adapterRoots) {
            try {
                real.add(root.toRealPath());
            } catch (IOException e) {
                throw new IllegalArgumentException("adapter root " + root + " is not a readable directory: " + e, e);
            }
            if (!Files.isDirectory(real.getLast())) {
                throw new IllegalArgumentException("adapter root " + root + " is not a directory");
            }
        }
        adapterRoots = List.copyOf(real);
    }

    /** No admin key and no adapter roots: loopback only, every caller the admin. */
    public static Access open() {
        return new Access(null, List.of());
    }

    /** Whether callers must send a key. */
    public boolean keyed() {
        return adminKey != null;
    }

    /** Whether {@code key} is the admin key (compared in constant time). */
    boolean isAdmin(String key) {
        return adminKey != null && MessageDigest.isEqual(Tenants.hash(adminKey).getBytes(),
                Tenants.hash(key).getBytes());
    }

    /**
     * Refuses to bind anything but loopback without an admin key.
     *
     * @throws IllegalArgumentException naming the host
     */
    public void checkBind(String host) {
        if (keyed()) {
            return;
        }
        boolean loopback;
        try {
            loopback = InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            loopback = false;
        }
        if (!loopback) {
            throw new IllegalArgumentException("refusing to serve on " + host + " without an admin key: every "
                    + "caller would be the admin; give --admin-key (or TAILOR_ADMIN_KEY), or bind 127.0.0.1");
        }
    }

    /**
     * The real directory a tenant's {@code given} path names, after checking it and every file in it lie under an
     * adapter root (lexically first, so nothing is told about paths outside them; then with symlinks resolved).
     *
     * @throws ApiException 403 for a path outside every root, 400 for one that is not a directory
     */
    Path tenantPath(Path given) {
        String path = given.toString();
        if (!given.isAbsolute()) {
            throw ApiException.badRequest("path", "'path' must be absolute, got '" + path + "'");
        }
        Path normal = given.normalize();
        if (adapterRoots.stream().noneMatch(normal::startsWith)) {
            throw outside(path);
        }
        Path real;
        try {
            real = normal.toRealPath();
        } catch (IOException e) {
            throw ApiException.badRequest("path", "'path' " + path + " is not a directory");
        }
        if (!under(real)) {
            throw outside(path);
        }
        if (!Files.isDirectory(real)) {
            throw ApiException.badRequest("path", "'path' " + path + " is not a directory");
        }
        try (Stream<Path> walk = Files.walk(real)) {
            for (Path p : walk.toList()) {
                if (!under(p.toRealPath())) {
                    throw outside(path + " (" + real.relativize(p) + " links outside)");
                }
            }
        } catch (IOException | UncheckedIOException e) {
            throw ApiException.badRequest("path", "cannot read " + path + ": " + e.getMessage());
        }
        return real;
    }

    private boolean under(Path real) {
        return adapterRoots.stream().anyMatch(real::startsWith);
    }

    private static ApiException outside(String path) {
        return ApiException.forbidden("path", "'path' " + path + " is outside the adapter roots a tenant may "
                + "register from");
    }
}
