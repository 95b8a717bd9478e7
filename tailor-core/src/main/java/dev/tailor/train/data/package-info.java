/**
 * The training data pipeline: reading JSON Lines (or plain text) datasets in the formats of
 * {@link dev.tailor.train.data.DatasetFormat}, encoding each line into an {@link dev.tailor.train.data.Example}
 * (token ids and loss labels), packing examples into fixed-length sequences whose attention never crosses an
 * example boundary, splitting train and eval sets and iterating epochs in a seeded, resumable order.
 */
package dev.tailor.train.data;
