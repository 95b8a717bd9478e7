package dev.tailor.tokenizer;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The pieces of a SentencePiece {@code tokenizer.model} (a protocol buffer {@code ModelProto}): each piece's text,
 * score and type, in id order. Only field 1 ({@code repeated SentencePiece pieces}) is read; the rest is skipped.
 */
final class SentencePieceModelFile {
    /** SentencePiece's {@code Type} (also llama.cpp's token types): normal 1, unknown 2, control 3, byte 6 …. */
    record Piece(String text, float score, int type) {
    }

    private final Path file;
    private final byte[] bytes;
    private int at;

    private SentencePieceModelFile(Path file, byte[] bytes) {
        this.file = file;
        this.bytes = bytes;
    }

    /**
     * Reads the pieces of {@code file}.
     *
     * @throws TokenizerException naming the file when it cannot be read or is not a SentencePiece model
     */
    static List<Piece> read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
        return new SentencePieceModelFile(file, bytes).pieces();
    }

    private List<Piece> pieces() {
        List<Piece> pieces = new ArrayList<>();
        while (at < bytes.length) {
            long key = varint();
            int field = (int) (key >>> 3);
            if (field == 1 && (key & 7) == 2) {
                int end = end();
                pieces.add(piece(end));
                at = end;
            } else {
                skip((int) (key & 7));
            }
        }
        if (pieces.isEmpty()) {
            throw fail("has no pieces (not a SentencePiece model)");
        }
        return pieces;
    }

    private Piece piece(int end) {
        String text = null;
        float score = 0;
        int type = 1;
        while (at < end) {
            long key = varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 1 && wire == 2) {
                int stop = end();
                text = utf8(at, stop);
                at = stop;
            } else if (field == 2 && wire == 5) {
                need(4);
                score = ByteBuffer.wrap(bytes, at, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getFloat();
                at += 4;
            } else if (field == 3 && wire == 0) {
                type = (int) varint();
            } else {
                skip(wire);
            }
        }
        if (text == null) {
            throw fail("a piece has no text");
        }
        return new Piece(text, score, type);
    }

    private String utf8(int from, int to) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, from, to - from)).toString();
        } catch (CharacterCodingException e) {
            throw fail("a piece is not valid UTF-8");
        }
    }

    private int end() {
        long length = varint();
        if (length < 0 || length > bytes.length - at) {
            throw fail("a field's length runs past the end of the file");
        }
        return at + (int) length;
    }

    private void skip(int wire) {
        switch (wire) {
            case 0 -> varint();
            case 1 -> { need(8); at += 8; }
            case 2 -> at = end();
            case 5 -> { need(4); at += 4; }
            default -> throw fail("wire type " + wire + " at byte " + at + " (not a SentencePiece model)");
        }
    }

    private long varint() {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            need(1);
            int b = bytes[at++] & 0xFF;
            v |= (long) (b & 0x7F) << shift;
            if (b < 0x80) {
                return v;
            }
        }
        throw fail("a varint is longer than 10 bytes");
    }

    private void need(int n) {
        if (bytes.length - at < n) {
            throw fail("ends inside a field (truncated?)");
        }
    }

    private TokenizerException fail(String problem) {
        return new TokenizerException(file + ": " + problem);
    }
}
