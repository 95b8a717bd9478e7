package dev.tailor.serve.jobs;

import dev.tailor.io.AtomicFiles;
import dev.tailor.serve.ApiException;
import dev.tailor.serve.ApiRequest;
import dev.tailor.serve.MultipartForm;
import dev.tailor.tokenizer.ChatTemplate;
import dev.tailor.tokenizer.Tokenizer;
import dev.tailor.train.data.DataFormatException;
import dev.tailor.train.data.Dataset;
import dev.tailor.train.data.DatasetLoader;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The uploaded files' bytes, {@code files/<id>.jsonl} in the state directory that servers and workers share. An upload
 * ({@code POST /v1/files}, {@code multipart/form-data} with {@code purpose} and {@code file}) is written to
 * {@code files/tmp/} within the size limit, hashed as it is written, then read as {@code tailor train} reads data (any
 * of its formats, detected from the first line; every line must have that format's fields, and encodes with the base's
 * tokenizer and chat template); a bad line is refused with its number and nothing is kept. A good file is renamed into
 * place and recorded.
 */
public final class FileStore {
    /** The only purpose files have here. */
    public static final String PURPOSE = "fine-tune";
    private static final Logger LOG = Logger.getLogger(FileStore.class.getName());
    /** The most bytes of a form field other than the file. */
    private static final int MAX_FIELD_BYTES = 1024;

    private final Path dir;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;

    /**
     * The files in {@code state/files}, created if absent, read with {@code tokenizer} and {@code chatTemplate}
     * (null when the base has none: then chat files are refused).
     *
     * @throws UncheckedIOException when the directory cannot be created
     */
    public FileStore(Path state, Tokenizer tokenizer, ChatTemplate chatTemplate) {
        this.dir = state.resolve("files");
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        try {
            Files.createDirectories(dir.resolve("tmp"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Where the bytes of file {@code id} are. */
    public static Path path(Path state, String id) {
        return state.resolve("files").resolve(id + ".jsonl");
    }

    /**
     * Reads the upload of {@code request} for {@code owner}: the file at most {@code maxBytes} long (null: no limit),
     * checked, stored and answered as recorded (the caller records it).
     *
     * @throws ApiException 400 for a malformed form, a missing or wrong {@code purpose}, a missing file, a file over
     *                      the limit, or a file {@code tailor train} would refuse (naming its line)
     */
    public TrainingFile receive(ApiRequest request, String owner, Long maxBytes) throws IOException {
        String type = request.contentType();
        if (!MultipartForm.isFormData(type)) {
            throw ApiException.badRequest(null, "a file is uploaded as multipart/form-data with the fields 'purpose' "
                    + "(fine-tune) and 'file', got Content-Type " + (type == null ? "none" : type));
        }
        MultipartForm form = new MultipartForm(request.content(), MultipartForm.boundary(type));
        String id = JobStore.newId("file-");
        Path tmp = dir.resolve("tmp").resolve(id + ".jsonl");
        try {
            String purpose = null;
            String filename = null;
            String sha256 = null;
            long bytes = -1;
            for (MultipartForm.Part part = form.next(); part != null; part = form.next()) {
                switch (part.name()) {
                    case "purpose" -> purpose = field(part);
                    case "file" -> {
                        if (bytes >= 0) {
                            throw ApiException.badRequest("file", "the form has more than one 'file' part");
                        }
                        filename = baseName(part.filename());
                        MessageDigest digest = sha256();
                        try (OutputStream out = new DigestOutputStream(Files.newOutputStream(tmp,
                                StandardOpenOption.CREATE_NEW), digest)) {
                            bytes = copy(part.content(), out, maxBytes);
                        }
                        sha256 = HexFormat.of().formatHex(digest.digest());
                    }
                    default -> throw ApiException.badRequest(part.name(), "unknown form field '" + part.name()
                            + "'; an upload takes 'purpose' (fine-tune) and 'file'");
                }
            }
            if (purpose == null) {
                throw ApiException.badRequest("purpose", "'purpose' is required: fine-tune");
            }
            if (!purpose.equals(PURPOSE)) {
                throw ApiException.badRequest("purpose", "'purpose' must be fine-tune here, got '" + purpose + "'");
            }
            if (bytes < 0) {
                throw ApiException.badRequest("file", "'file' is required: the JSON Lines training data");
            }
            Dataset data = read(tmp, filename);
            TrainingFile file = new TrainingFile(id, owner, filename, purpose, bytes, sha256, data.format().id(),
                    data.examples().size(), data.tokens(), List.copyOf(data.labels()),
                    System.currentTimeMillis() / 1000);
            AtomicFiles.moveReplacing(tmp, path(dir.getParent(), id));
            AtomicFiles.syncDirectory(dir);
            return file;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Deletes the bytes of file {@code id} (its record is gone already). */
    public void delete(String id) {
        try {
            Files.deleteIfExists(path(dir.getParent(), id));
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot delete the bytes of file " + id, e);
        }
    }

    /**
     * The name an upload is kept under: the last component of the name the client gave (after a {@code /} or
     * {@code \}), its control characters dropped (a NUL names no file, and PostgreSQL stores
     * none); {@code upload.jsonl} when nothing is left.
     */
    static String baseName(String given) {
        String name = given == null ? ""
                : given.substring(Math.max(given.lastIndexOf('/'), given.lastIndexOf('\\')) + 1);
        StringBuilder kept = new StringBuilder();
        name.codePoints().filter(c -> !Character.isISOControl(c)).forEach(kept::appendCodePoint);
        return kept.toString().isBlank() ? "upload.jsonl" : kept.toString();
    }

    /**
     * {@code tmp} read as training data, errors naming the file as uploaded.
     *
     * @throws ApiException 400 naming the line at fault
     */
    private Dataset read(Path tmp, String filename) {
        try {
            return new DatasetLoader(tokenizer, chatTemplate, null, false).load(tmp);
        } catch (DataFormatException | IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
            throw new ApiException(400, "invalid_request_error", "invalid_file", "file", "the file is not training "
                    + "data Tailor reads, nothing was stored: " + String.valueOf(e.getMessage())
                    .replace(tmp.toString(), filename));
        }
    }

    /** Copies {@code in} to {@code out}, refusing (400) more than {@code max} bytes when it is not null. */
    private static long copy(InputStream in, OutputStream out, Long max) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
            total += n;
            if (max != null && total > max) {
                throw new ApiException(400, "invalid_request_error", "file_too_large", "file", "the file is larger "
                        + "than the " + max + " bytes a tenant may upload");
            }
            out.write(buf, 0, n);
        }
        return total;
    }

    private static String field(MultipartForm.Part part) throws IOException {
        byte[] bytes = part.content().readNBytes(MAX_FIELD_BYTES + 1);
        if (bytes.length > MAX_FIELD_BYTES) {
            throw ApiException.badRequest(part.name(), "the field '" + part.name() + "' is longer than "
                    + MAX_FIELD_BYTES + " bytes");
        }
        return new String(bytes, StandardCharsets.UTF_8).strip();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
