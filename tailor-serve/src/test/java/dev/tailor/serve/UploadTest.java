package dev.tailor.serve;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pieces of an adapter upload: its {@code multipart/form-data} body read part by part, and archives made by real
 * tools unpacked to their files.
 */
class UploadTest {
    @TempDir
    Path tmp;

    @Test
    void archivesMadeByRealToolsUnpackToTheirFiles() throws Exception {
        String longPath = "a-directory-whose-name-is-long-enough/"
                + "to-need-more-than-the-hundred-bytes-of-a-tar-name-field/a-file-with-a-long-name-too.txt";
        Map<String, String> expected = new TreeMap<>(Map.of("adapter_config.json", "{\"peft_type\": \"LORA\"}\n",
                "données.txt", "accents\n", longPath, "long\n"));
        for (String name : List.of("gnu-tar.tar.gz", "posix-tar.tar", "python-tarfile.tgz", "git-archive.tar.gz",
                "info-zip.zip")) {
            Path archive = resource(name);
            Path dir = AdapterArchive.unpack(archive, tmp.resolve("unpacked-" + name),
                    AdapterArchive.Limits.forBody(1 << 20));
            assertEquals("top", dir.getFileName().toString(), name + ": its one top directory is the adapter's");
            Map<String, String> got = new TreeMap<>();
            Archives.files(dir).forEach((file, bytes) -> got.put(file, new String(bytes, StandardCharsets.UTF_8)));
            assertEquals(expected, got, name);
        }
    }

    private Path resource(String name) throws IOException {
        try (InputStream in = UploadTest.class.getResourceAsStream("/archives/" + name)) {
            assertNotNull(in, name);
            Path file = tmp.resolve(name);
            Files.write(file, in.readAllBytes());
            return file;
        }
    }

    @Test
    void formPartsAreReadWhateverSizeTheReadsCome() throws Exception {
        // pieces of the delimiter CRLF--BOUNDARY, but never all of it, ending with all but its last byte
        String boundary = Archives.BOUNDARY;
        byte[] archive = ("\r\n--" + boundary.substring(0, 12) + "\r\n-\r\n--\r\n-" + boundary + "x\n--" + boundary
                + "\r\n--" + boundary.substring(0, boundary.length() - 1)).getBytes(StandardCharsets.UTF_8);
        byte[] body = ("preamble\r\n" + new String(Archives.form(Map.of("promote", "false"), "a.tar", archive),
                StandardCharsets.ISO_8859_1) + "epilogue").getBytes(StandardCharsets.ISO_8859_1);
        for (int chunk : new int[] {1, 7, 1 << 16}) {
            MultipartForm form = new MultipartForm(new Trickle(body, chunk), Archives.BOUNDARY);
            MultipartForm.Part promote = form.next();
            assertEquals("promote", promote.name());
            assertEquals("false", new String(promote.content().readAllBytes(), StandardCharsets.UTF_8));
            MultipartForm.Part file = form.next();
            assertEquals("file", file.name());
            assertEquals("a.tar", file.filename());
            assertArrayEquals(archive, file.content().readAllBytes(), "reads of " + chunk + " bytes");
            assertEquals(null, form.next());
        }
        byte[] unclosed = Archives.form(Map.of("promote", "false"), null, null);
        MultipartForm form = new MultipartForm(new ByteArrayInputStream(unclosed, 0, unclosed.length - 10),
                Archives.BOUNDARY);
        ApiException e = assertThrows(ApiException.class, () -> form.next().content().readAllBytes());
        assertEquals(400, e.status());
        assertTrue(e.getMessage().contains("no closing boundary"), e.getMessage());
    }

    /** An input stream that gives at most {@code chunk} bytes a read. */
    private static final class Trickle extends ByteArrayInputStream {
        private final int chunk;

        Trickle(byte[] bytes, int chunk) {
            super(bytes);
            this.chunk = chunk;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) {
            return super.read(b, off, Math.min(len, chunk));
        }
    }
}
