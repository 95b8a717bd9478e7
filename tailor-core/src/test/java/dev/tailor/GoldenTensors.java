package dev.tailor;

import dev.tailor.io.SafetensorsFile;
import dev.tailor.io.TensorInfo;
import dev.tailor.model.CausalLmLoss;
import dev.tailor.model.LlamaModel;
import dev.tailor.tensor.Parameter;
import dev.tailor.train.data.PackedSequence;
import dev.tailor.train.nn.TrainableLlama;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Reading golden files (ids, labels, reference tensors) and the golden batch's training step. */
public final class GoldenTensors {
    private GoldenTensors() {
    }

    /** A 2-D I64 tensor as int rows. */
    public static int[][] longs(SafetensorsFile f, String name) {
        TensorInfo info = f.info(name);
        int rows = (int) info.shape()[0];
        int cols = (int) info.shape()[1];
        var seg = f.data(name);
        int[][] out = new int[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[r][c] = (int) seg.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                        (long) r * cols + c);
            }
        }
        return out;
    }

    /** The golden {@code ids}/{@code labels} rows as unpacked sequences (positions 0…n−1, one segment). */
    public static List<PackedSequence> batch(SafetensorsFile g) {
        int[][] ids = longs(g, "ids");
        int[][] labels = longs(g, "labels");
        List<PackedSequence> out = new ArrayList<>();
        for (int b = 0; b < ids.length; b++) {
            int n = ids[b].length;
            int[] positions = new int[n];
            for (int t = 0; t < n; t++) {
                positions[t] = t;
            }
            out.add(new PackedSequence(ids[b], labels[b], positions, new int[n]));
        }
        return out;
    }

    /** Zeroes the gradients, then forward and backward of the batch with the loss averaged over all counted tokens. */
    public static CausalLmLoss.Total step(TrainableLlama model, List<PackedSequence> batch) {
        long count = 0;
        for (PackedSequence s : batch) {
            for (int t = 1; t < s.length(); t++) {
                count += s.labels()[t] != CausalLmLoss.IGNORE_INDEX ? 1 : 0;
            }
        }
        model.parameters().forEach(Parameter::zeroGrad);
        CausalLmLoss.Total total = new CausalLmLoss.Total(0, 0);
        for (PackedSequence s : batch) {
            total = total.plus(model.forwardBackward(s, 1f / count));
        }
        return total;
    }

    /**
     * The model's forward over the golden batch ({@code ids}, {@code labels}, {@code logits} of {@code g}), each row
     * in a fresh cache: its largest absolute logit error and its mean loss.
     */
    public static Forward forward(LlamaModel model, SafetensorsFile g) {
        int[][] ids = longs(g, "ids");
        int[][] labels = longs(g, "labels");
        int vocab = model.config().vocabSize();
        var expected = g.data("logits");
        double maxErr = 0;
        CausalLmLoss.Total total = new CausalLmLoss.Total(0, 0);
        for (int b = 0; b < ids.length; b++) {
            int seq = ids[b].length;
            float[] logits = model.logits(model.forward(model.newCache(seq), ids[b]), 0, seq);
            for (int i = 0; i < seq * vocab; i++) {
                float e = expected.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, (long) b * seq * vocab + i);
                maxErr = Math.max(maxErr, Math.abs(e - logits[i]));
            }
            total = total.plus(CausalLmLoss.total(logits, vocab, labels[b]));
        }
        return new Forward(maxErr, total.mean());
    }

    /**
     * What {@link #forward} measured.
     *
     * @param maxLogitError largest {@code |logit − golden logit|}
     * @param loss          mean loss over the batch's counted tokens
     */
    public record Forward(double maxLogitError, double loss) {
    }

    /** {@code max |actual − ref| / max |ref|} over the F32 tensor {@code name} of {@code ref}. */
    public static double relativeError(float[] actual, SafetensorsFile ref, String name) {
        var seg = ref.data(name);
        double maxDiff = 0;
        double maxRef = 0;
        for (int i = 0; i < actual.length; i++) {
            float e = seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
            maxDiff = Math.max(maxDiff, Math.abs(e - actual[i]));
            maxRef = Math.max(maxRef, Math.abs(e));
        }
        return maxDiff / maxRef;
    }
}
