package dev.tailor.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntFunction;

/**
 * Decodes a stream of ids: collects each token's bytes and emits the longest prefix that ends on a complete
 * UTF-8 character, holding back the bytes of a character split across tokens.
 */
final class Utf8StreamingDecoder implements StreamingDecoder {
    private final IntFunction<byte[]> tokenBytes;
    private final int stripLeadingSpaces;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private boolean atStart = true;

    /**
     * @param tokenBytes         the bytes of one id (empty for skipped ids)
     * @param stripLeadingSpaces spaces to drop from the start of the whole output
     */
    Utf8StreamingDecoder(IntFunction<byte[]> tokenBytes, int stripLeadingSpaces) {
        this.tokenBytes = tokenBytes;
        this.stripLeadingSpaces = stripLeadingSpaces;
    }

    @Override
    public String next(int id) {
        byte[] bytes = tokenBytes.apply(id);
        int from = 0;
        if (atStart && bytes.length > 0) {
            while (from < bytes.length && from < stripLeadingSpaces && bytes[from] == ' ') {
                from++;
            }
            atStart = false;
        }
        pending.write(bytes, from, bytes.length - from);
        byte[] all = pending.toByteArray();
        int complete = completePrefix(all);
        pending.reset();
        pending.write(all, complete, all.length - complete);
        return new String(all, 0, complete, StandardCharsets.UTF_8);
    }

    @Override
    public String flush() {
        String rest = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return rest;
    }

    /**
     * The length of the longest prefix that does not end inside a character: everything, unless the last lead
     * byte starts a sequence longer than the bytes after it.
     */
    static int completePrefix(byte[] bytes) {
        int n = bytes.length;
        for (int i = n - 1; i >= 0 && i >= n - 4; i--) {
            int b = bytes[i] & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue;
            }
            int length = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 1;
            return i + length > n ? i : n;
        }
        return n;
    }

    /** The text of a whole id sequence: all bytes joined, leading spaces stripped, decoded once. */
    static String decodeAll(int[] ids, IntFunction<byte[]> tokenBytes, int stripLeadingSpaces) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        boolean atStart = true;
        for (int id : ids) {
            byte[] bytes = tokenBytes.apply(id);
            int from = 0;
            if (atStart && bytes.length > 0) {
                atStart = false;
                while (from < bytes.length && from < stripLeadingSpaces && bytes[from] == ' ') {
                    from++;
                }
            }
            out.write(bytes, from, bytes.length - from);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
