package dev.tailor.train.nn;

/**
 * Scratch for the gradients inside one block's backward, for up to {@code n} rows, kept across blocks and steps
 * (every buffer is overwritten before it is read, so none is cleared). The block's input gradient is not here: it
 * outlives the block.
 */
final class BlockGradients {
    final float[] dAct;
    final float[] dGate;
    final float[] dUp;
    final float[] dn2;
    final float[] dn1;
    final float[] part;
    final float[] dAttn;
    final float[] dq;
    final float[] dk;
    final float[] dv;

    BlockGradients(int n, int d, int qDim, int kvDim, int ffn) {
        dAct = new float[n * ffn];
        dGate = new float[n * ffn];
        dUp = new float[n * ffn];
        dn2 = new float[n * d];
        dn1 = new float[n * d];
        part = new float[n * d];
        dAttn = new float[n * qDim];
        dq = new float[n * qDim];
        dk = new float[n * kvDim];
        dv = new float[n * kvDim];
    }
}
