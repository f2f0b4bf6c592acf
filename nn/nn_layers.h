/* nn_layers.h: training layers with forward and backward passes over batches: dense, embedding,
 * LSTM and GRU (full sequences, truncated BPTT). Layouts follow PyTorch: a dense weight is
 * [out, in]; an LSTM has w_ih [4H, I], w_hh [4H, H] with the gates fused in the order i, f, g, o
 * and one bias b [4H] (PyTorch's b_ih + b_hh); a GRU has w_ih [3H, I], w_hh [3H, H], b_ih [3H],
 * b_hh [3H] with gates r, z, n. Sequences are time-major: x [T, B, I]. Backward functions
 * accumulate (+=) into parameter gradients and input gradients. Not real-time: training only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* y [n, out] = x [n, in] w^T + b (b may be NULL). */
void nn_dense_forward(float *y, const float *x, const float *w, const float *b, int n, int in,
                      int out);

/* dx [n, in] += dy w; dw [out, in] += dy^T x; db [out] += sum of dy rows (any may be NULL). */
void nn_dense_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                       const float *w, int n, int in, int out);

/* y [n, dim] (row stride ystride) = table [vocab, dim] rows ids[i]; ids outside [0, vocab) give zeros. */
void nn_embed_forward(float *y, int ystride, const int *ids, const float *table, int n, int vocab,
                      int dim);

/* dtable rows ids[i] += dy [n, dim] (row stride dystride). */
void nn_embed_backward(float *dtable, const float *dy, int dystride, const int *ids, int n,
                       int vocab, int dim);

/* Floats of activations an LSTM layer keeps between forward and backward for T x B x H. */
size_t nn_lstm_acts_size(int T, int B, int H);

/* LSTM over a sequence: h [T, B, H] outputs from x [T, B, I], starting state h0, c0 [B, H] (NULL:
 * zeros); reset [T, B] (NULL: none) zeroes the state before step t for sequences that start there.
 * Writes the final state to hT, cT (may be NULL; may alias h0, c0). acts: nn_lstm_acts_size floats. */
void nn_lstm_forward(float *h, float *acts, float *hT, float *cT, const float *x, const float *h0,
                     const float *c0, const uint8_t *reset, const float *w_ih, const float *w_hh,
                     const float *b, int T, int B, int I, int H);

/* LSTM backward from dh [T, B, H] (the loss gradient on the outputs): dx, dw_ih, dw_hh, db +=;
 * dh0, dc0 (may be NULL) receive the gradient on the starting state. Consumes acts (overwrites). */
void nn_lstm_backward(float *dx, float *dw_ih, float *dw_hh, float *db, float *dh0, float *dc0,
                      const float *dh, float *acts, const float *x, const uint8_t *reset,
                      const float *w_ih, const float *w_hh, int T, int B, int I, int H);

/* Floats of activations a GRU layer keeps between forward and backward. */
size_t nn_gru_acts_size(int T, int B, int H);

/* GRU over a sequence (as nn_lstm_forward, without a cell state). */
void nn_gru_forward(float *h, float *acts, float *hT, const float *x, const float *h0,
                    const uint8_t *reset, const float *w_ih, const float *w_hh, const float *b_ih,
                    const float *b_hh, int T, int B, int I, int H);

/* GRU backward (as nn_lstm_backward). Consumes acts. */
void nn_gru_backward(float *dx, float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, float *dh0,
                     const float *dh, float *acts, const float *x, const uint8_t *reset,
                     const float *w_ih, const float *w_hh, int T, int B, int I, int H);
