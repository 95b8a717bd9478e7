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
    final float[] probs;
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
        this(n, d, qDim, kvDim, heads, kvHeads, ffn, qkNorm, sublayerAdapters, 0);
    }

    /** With {@code prefix} keys (prefix tuning) before the sequence's in the attention probabilities. */
    BlockActivations(int n, int d, int qDim, int kvDim, int heads, int kvHeads, int ffn, boolean qkNorm,
                     boolean sublayerAdapters, int prefix) {
        xIn = new float[n * d];
        n1 = new float[n * d];
        rstd1 = new float[n];
        qRaw = qkNorm ? new float[n * qDim] : null;
        qRstd = qkNorm ? new float[n * heads] : null;
        kRaw = qkNorm ? new float[n * kvDim] : null;
        kRstd = qkNorm ? new float[n * kvHeads] : null;
        q = new float[n * qDim];
        k = new float[n * kvDim];
        v = new float[n * kvDim];
        probs = new float[heads * n * (prefix + n)];
        attn = new float[n * qDim];
        xMid = new float[n * d];
        n2 = new float[n * d];
        rstd2 = new float[n];
        gate = new float[n * ffn];
        up = new float[n * ffn];
        act = new float[n * ffn];
        attnOut = sublayerAdapters ? new float[n * d] : null;
        mlpOut = sublayerAdapters ? new float[n * d] : null;
    }
}
