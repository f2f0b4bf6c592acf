/* nn_stream.h: real-time streaming inference: a stack of layers (dense, LSTM, GRU) run one step at
 * a time for one or many independent streams batched into one pass over the weights.
 *
 * nn_stream_create (not real-time: allocates, packs the weights for the kernels) fixes all memory;
 * nn_stream_step and nn_stream_state_reset are real-time safe: no allocation, no locks, no I/O,
 * bounded time (fixed work per stream). One nn_stream is used by one thread at a time (it holds
 * scratch memory); each stream's recurrent state is a caller-owned float block, so states can be
 * reset, copied (snapshots, look-ahead) and kept per voice. Call nn_denormals_off() once on the
 * real-time thread. */
#pragma once

#include "nn/nn_model.h"
#include "nn/nn_ops.h"

#include <stddef.h>

#define NN_STREAM_MAX_LAYERS 8
#define NN_STREAM_MAX_EMBED 8

typedef enum nn_stream_kind {
    NN_STREAM_DENSE = 1, /* tensors PREFIX.w [out, in], PREFIX.b [out] */
    NN_STREAM_LSTM = 2,  /* PREFIX.w_ih [4H, in], PREFIX.w_hh [4H, H], PREFIX.b [4H] */
    NN_STREAM_GRU = 3,   /* PREFIX.w_ih [3H, in], PREFIX.w_hh [3H, H], PREFIX.b_ih, PREFIX.b_hh [3H] */
} nn_stream_kind;

typedef struct nn_stream_layer {
    nn_stream_kind kind;
    int units;          /* outputs (dense) or hidden units (LSTM, GRU) */
    nn_act act;         /* dense only */
    char prefix[64];    /* tensor-name prefix in the model */
} nn_stream_layer;

/* Flags. */
#define NN_STREAM_F16 1    /* keep weights as half floats (half the memory traffic; ~1e-3 rel. error) */
#define NN_STREAM_SCALAR 2 /* use the portable scalar kernels even where AVX2 is available */

typedef struct nn_stream_desc {
    /* Layer 0's input is [embedding rows for ids..., dense inputs]: each embedding table (a model
     * tensor [vocab, dim]) is folded into layer 0's weights at load time. */
    int n_embed;
    char embed[NN_STREAM_MAX_EMBED][64];
    int dense_in;
    int n_layers;
    nn_stream_layer layer[NN_STREAM_MAX_LAYERS];
    int max_batch; /* most streams one nn_stream_step may carry */
    int flags;
} nn_stream_desc;

typedef struct nn_stream nn_stream;

/* Builds a stream runner from a model's tensors (validated against desc); NULL with one sentence in
 * err on a missing or misshapen tensor or out of memory. Not real-time. */
nn_stream *nn_stream_create(const nn_stream_desc *desc, const nn_model *m, char *err,
                            size_t errlen);

/* Frees a stream runner (NULL is fine). Not real-time. */
void nn_stream_free(nn_stream *s);

/* Floats in one stream's state block (allocate it 32-byte aligned, e.g. with nn_alloc). */
size_t nn_stream_state_size(const nn_stream *s);

/* Output width of one step (the last layer's units). */
int nn_stream_out_size(const nn_stream *s);

/* Clears a stream's state (the start of a sequence). Real-time safe. */
void nn_stream_state_reset(const nn_stream *s, float *state);

/* Advances n streams (n <= max_batch) one step: for stream k, ids[k * n_embed ...] (NULL when there
 * are no embeddings), x[k * dense_in ...] and its state block states[k]; writes y[k * out ...].
 * Real-time safe: no allocation, no locks, bounded time. */
void nn_stream_step(nn_stream *s, int n, float *const *states, const int *ids, const float *x,
                    float *y);

/* The kernels in use: "avx2" or "scalar". */
const char *nn_stream_kernel(const nn_stream *s);

/* Bytes of packed weights (what one step reads), for benchmarks. */
size_t nn_stream_weight_bytes(const nn_stream *s);

/* Multiply-adds per stream step (for throughput figures). */
double nn_stream_flops(const nn_stream *s);
