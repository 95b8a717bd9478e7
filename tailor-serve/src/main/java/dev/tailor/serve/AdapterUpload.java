package dev.tailor.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * {@code PUT /v1/adapters/{name}} with a {@code multipart/form-data} body: the adapter's PEFT directory as a
 * {@code .tar}, {@code .tar.gz} or {@code .zip} in the part {@code file}, and the JSON form's fields
 * ({@code promote}, {@code expected_version}, {@code require_no_worse}, {@code preload}, {@code pin}, {@code tenant},
 * {@code shared}) as form fields. The body is read within {@link ServerOptions#maxBodyBytes()} (413 past it), the
 * archive kept in a fresh directory of the adapter store's scratch space and unpacked there by
 * {@link AdapterArchive}, then registered from there exactly as a JSON {@code path} is; the directory is deleted
 * whatever happens.
 */
final class AdapterUpload {
    private static final String FILE = AdapterArchive.FIELD;
    private static final List<String> BOOLEANS = List.of("promote", "require_no_worse", "shared", "preload", "pin");
    private static final String INTEGER = "expected_version";
    private static final String STRING = "tenant";
    /** The most bytes of one field's value. */
    private static final int MAX_FIELD_BYTES = 1024;
    private static final Logger LOG = Logger.getLogger(AdapterUpload.class.getName());

    private final ServedModels models;
    private final ObjectMapper json;
    private final long maxBodyBytes;
    private final AdapterArchive.Limits limits;

    /** What registers an unpacked adapter: the form's fields as the JSON form's body, and the adapter's directory. */
    interface Registration {
        void register(RequestBody fields, Path dir) throws IOException;
    }

    AdapterUpload(ServedModels models, ObjectMapper json, long maxBodyBytes) {
        this.models = models;
        this.json = json;
        this.maxBodyBytes = maxBodyBytes;
        this.limits = AdapterArchive.Limits.forBody(maxBodyBytes);
    }

    /** Whether {@code req} is an upload: its body is {@code multipart/form-data}. */
    static boolean isUpload(ServerRequest req) {
        return MultipartForm.isFormData(req.headers().first(HeaderNames.CONTENT_TYPE).orElse(null));
    }

    /**
     * Reads the form of {@code req}, unpacks its archive and hands the fields and the adapter's directory to
     * {@code registration}; a refusal that names the scratch directory names the archive instead.
     *
     * @throws ApiException 400 for a malformed form, a field of the wrong type, or an archive refused (code
     *                      {@value AdapterArchive#CODE}); 404 without a registry; 413 for a body over the limit; or
     *                      whatever {@code registration} throws
     */
    void receive(ServerRequest req, Registration registration) throws IOException {
        String boundary = MultipartForm.boundary(req.headers().first(HeaderNames.CONTENT_TYPE).orElse(null));
        long declared = req.headers().contentLength().orElse(-1);
        if (declared > maxBodyBytes) {
            throw ApiException.tooLarge(declared + " bytes", maxBodyBytes);
        }
        Path scratch = models.uploadDirectory();
        try {
            Path archive = scratch.resolve("archive");
            Form form;
            try (InputStream body = new Bounded(req.content().inputStream(), maxBodyBytes)) {
                form = read(new MultipartForm(body, boundary), archive);
            }
            Path dir = AdapterArchive.unpack(archive, scratch.resolve("adapter"), limits);
            Files.delete(archive);
            try {
                registration.register(form.fields(), dir);
            } catch (ApiException e) {
                // the JSON form's field is 'path', an upload's is its file
                throw e.with("path".equals(e.param()) ? FILE : e.param(), e.getMessage()
                        .replace(dir.toString(), form.shown()).replace(scratch.toString(), form.shown()));
            }
        } finally {
            delete(scratch);
        }
    }

    /** The form's fields as a JSON body, and how errors name its archive (its file name, else a description). */
    private record Form(RequestBody fields, String shown) {
    }

    private Form read(MultipartForm form, Path archive) throws IOException {
        ObjectNode fields = json.createObjectNode();
        String filename = null;
        boolean file = false;
        for (MultipartForm.Part part = form.next(); part != null; part = form.next()) {
            String name = part.name();
            if (name.equals(FILE)) {
                if (file) {
                    throw ApiException.badRequest(FILE, "the form has more than one '" + FILE + "' part");
                }
                file = true;
                filename = part.filename();
                try (OutputStream out = Files.newOutputStream(archive, StandardOpenOption.CREATE_NEW)) {
                    part.content().transferTo(out);
                }
                continue;
            }
            if (fields.has(name)) {
                throw ApiException.badRequest(name, "the form gives '" + name + "' more than once");
            }
            byte[] bytes = part.content().readNBytes(MAX_FIELD_BYTES + 1);
            if (bytes.length > MAX_FIELD_BYTES) {
                throw ApiException.badRequest(name, "the field '" + name + "' is longer than " + MAX_FIELD_BYTES
                        + " bytes");
            }
            String value = new String(bytes, StandardCharsets.UTF_8).strip();
            if (BOOLEANS.contains(name)) {
                if (!value.equals("true") && !value.equals("false")) {
                    throw ApiException.badRequest(name, "'" + name + "' must be true or false, got '" + value + "'");
                }
                fields.put(name, Boolean.parseBoolean(value));
            } else if (name.equals(INTEGER)) {
                try {
                    fields.put(name, Integer.parseInt(value));
                } catch (NumberFormatException e) {
                    throw ApiException.badRequest(name, "'" + name + "' must be an integer, got '" + value + "'");
                }
            } else if (name.equals(STRING)) {
                fields.put(name, value);
            } else if (name.equals("path")) {
                throw ApiException.badRequest(name, "an upload carries the adapter in its '" + FILE + "' part; "
                        + "'path' belongs to the JSON form");
            } else {
                throw ApiException.badRequest(name, "unknown form field '" + name + "'; an upload takes '" + FILE
                        + "' (the archive), " + String.join(", ", BOOLEANS) + ", " + INTEGER + " and " + STRING);
            }
        }
        if (!file) {
            throw ApiException.badRequest(FILE, "'" + FILE + "' is required: the adapter directory as a .tar, "
                    + ".tar.gz or .zip archive");
        }
        String shown = filename == null || filename.isBlank() ? "the uploaded archive" : filename;
        return new Form(RequestBody.of(fields), shown);
    }

    private static void delete(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.log(Level.WARNING, "cannot delete the upload directory " + dir, e);
        }
    }

    /** A request body refused (413) once it passes {@code max} bytes, as it is read. */
    private static final class Bounded extends FilterInputStream {
        private final long max;
        private long read;

        Bounded(InputStream in, long max) {
            super(in);
            this.max = max;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count(n);
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(n);
            count(skipped);
            return skipped;
        }

        private void count(long n) {
            read += n;
            if (read > max) {
                throw ApiException.tooLarge("more than " + max + " bytes", max);
            }
        }
    }
}
