package dev.tailor.tokenizer;

import java.util.Arrays;

/** A growable list of ints, to collect token ids without boxing. */
final class IntList {
    private int[] values;
    private int size;

    /** An empty list with room for {@code capacity} ids. */
    IntList(int capacity) {
        values = new int[Math.max(4, capacity)];
    }

    /** Appends one value. */
    void add(int value) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = value;
    }

    /** Appends all values. */
    void addAll(int[] more) {
        if (size + more.length > values.length) {
            values = Arrays.copyOf(values, Math.max(size * 2, size + more.length));
        }
        System.arraycopy(more, 0, values, size, more.length);
        size += more.length;
    }

    /** Number of values. */
    int size() {
        return size;
    }

    /** The values as a new array. */
    int[] toArray() {
        return Arrays.copyOf(values, size);
    }
}
