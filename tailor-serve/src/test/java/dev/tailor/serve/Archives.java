package dev.tailor.serve;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Upload bodies made byte by byte for the upload tests: {@code multipart/form-data} bodies. */
final class Archives {
    static final String BOUNDARY = "----tailor-upload-boundary-7MA4YWxkTrZu0gW";

    private Archives() {
    }

    /**
     * A {@code multipart/form-data} body (boundary {@link #BOUNDARY}) of text {@code fields} and, when
     * {@code archive} is not null, the part {@code file} named {@code filename}.
     */
    static byte[] form(Map<String, String> fields, String filename, byte[] archive) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        fields.forEach((name, value) -> body.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; "
                + "name=\"" + name + "\"\r\n\r\n" + value + "\r\n").getBytes(StandardCharsets.UTF_8)));
        if (archive != null) {
            body.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
                    + filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            body.writeBytes(archive);
            body.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        body.writeBytes(("--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return body.toByteArray();
    }
}
