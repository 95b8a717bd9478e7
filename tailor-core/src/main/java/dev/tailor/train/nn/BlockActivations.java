package dev.tailor.train.nn;

import dev.tailor.model.site.LinearHook.Saved;

/** What the backward of one block needs from its forward, for a sequence of {@code n} tokens. */
final class BlockActivations {
    final float[] xIn;
    final float[] n1;
    final float[] rstd1;
    final float[] qRaw;
    final float[] qRstd;
    final float[] kRaw;
    final float[] kRstd;
    final float[] q;
    final float[] k;
    final float[] v;
    final float[] attn;
    final float[] xMid;
    final float[] n2;
    final float[] rstd2;
    final float[] gate;
    final float[] up;
    final float[] act;
    /** The attention and MLP outputs before their sublayer adapters (null without such adapters). */
    final float[] attnOut;
    final float[] mlpOut;
    /** What the linears' adapters saved in the last block forward, for their backward ({@code NOTHING} if none). */
    Saved qSaved;
    Saved kSaved;
    Saved vSaved;
    Saved oSaved;
    Saved gateSaved;
    Saved upSaved;
    Saved downSaved;

    BlockActivations(int n, int d, int qDim, int kvDim, int heads, int kvHeads, int ffn, boolean qkNorm,
                     boolean sublayerAdapters) {
        this(n, d, qDim, kvDim, heads, kvHeads, ffn, qkNorm, sublayerAdapters, false);
    }

    /** Only a block's input {@code xIn [n, d]} (every other buffer empty): what gradient checkpointing keeps. */
    static BlockActivations inputOnly(int n, int d) {
        return new BlockActivations(n, d, 0, 0, 0, 0, 0, false, false, true);
    }

    /**
     * With {@code inputOnly} only {@code xIn} has rows (what gradient checkpointing keeps of a block; see
     * {@link #inputOnly}).
     */
    private BlockActivations(int n, int d, int qDim, int kvDim, int heads, int kvHeads, int ffn, boolean qkNorm,
                             boolean sublayerAdapters, boolean inputOnly) {
        xIn = new float[n * d];
        int rows = inputOnly ? 0 : n;
        n1 = new float[rows * d];
        rstd1 = new float[rows];
        qRaw = qkNorm ? new float[rows * qDim] : null;
        qRstd = qkNorm ? new float[rows * heads] : null;
        kRaw = qkNorm ? new float[rows * kvDim] : null;
        kRstd = qkNorm ? new float[rows * kvHeads] : null;
        q = new float[rows * qDim];
        k = new float[rows * kvDim];
        v = new float[rows * kvDim];
        attn = new float[rows * qDim];
        xMid = new float[rows * d];
        n2 = new float[rows * d];
        rstd2 = new float[rows];
        gate = new float[rows * ffn];
        up = new float[rows * ffn];
        act = new float[rows * ffn];
        attnOut = sublayerAdapters ? new float[rows * d] : null;
        mlpOut = sublayerAdapters ? new float[rows * d] : null;
    }
}
