/* nn_seqnet.h: a sequence model assembled from nn's layers: embeddings (several token inputs) and
 * dense features -> a stack of LSTM layers -> several output heads (softmax over classes, or
 * sigmoid multi-hot), trained with truncated BPTT over masked batches, and run live through
 * nn_stream. Parameters are model tensors: embed<k> [vocab, dim]; lstm<l>.w_ih, .w_hh, .b;
 * heads.w [sum of head sizes, hidden], heads.b (the heads fused in one product). Not real-time. */
#pragma once

#include "nn/nn_model.h"
#include "nn/nn_stream.h"

#include <stdint.h>

#define NN_SEQNET_MAX_EMBED 8
#define NN_SEQNET_MAX_LAYERS 6
#define NN_SEQNET_MAX_HEADS 8

typedef enum nn_head_kind { NN_HEAD_SOFTMAX = 1, NN_HEAD_SIGMOID = 2 } nn_head_kind;

typedef struct nn_seqnet_config {
    int n_embed;
    int embed_vocab[NN_SEQNET_MAX_EMBED], embed_dim[NN_SEQNET_MAX_EMBED];
    int dense_in;      /* extra float features per step (0: none) */
    int layers, hidden;
    int n_heads;
    nn_head_kind head_kind[NN_SEQNET_MAX_HEADS];
    int head_size[NN_SEQNET_MAX_HEADS];
    float head_weight[NN_SEQNET_MAX_HEADS]; /* loss weights (0 is taken as 1) */
} nn_seqnet_config;

/* One batch, time-major, of B sequences of T steps. */
typedef struct nn_seqnet_batch {
    int T, B;
    const int *ids;         /* [T, B, n_embed] (NULL when n_embed is 0) */
    const float *dense;     /* [T, B, dense_in] (NULL when dense_in is 0) */
    const uint8_t *reset;   /* [T, B]: a sequence starts here (state zeroed); NULL: none */
    const float *mask;      /* [T, B] loss weights; NULL: all 1 */
    const int *targets[NN_SEQNET_MAX_HEADS];  /* softmax heads: [T, B] class ids (<0: skip) */
    const float *multi[NN_SEQNET_MAX_HEADS];  /* sigmoid heads: [T, B, size] in [0, 1] */
} nn_seqnet_batch;

typedef struct nn_seqnet nn_seqnet;

/* A new model for cfg with PyTorch's default initialisation from seed; hyper-parameters recorded.
 * NULL with one sentence in err on a bad config or out of memory. */
nn_model *nn_seqnet_model_create(const nn_seqnet_config *cfg, uint64_t seed, char *err,
                                 size_t errlen);

/* Reads a config back from a model's hyper-parameters; 0, or -1 with one sentence in err. */
int nn_seqnet_config_from_model(nn_seqnet_config *cfg, const nn_model *m, char *err,
                                size_t errlen);

/* A trainer over model m (which must match its recorded config) for batches up to T x B. */
nn_seqnet *nn_seqnet_create(nn_model *m, int T, int B, char *err, size_t errlen);

/* Frees a trainer (NULL is fine); the model stays the caller's. */
void nn_seqnet_free(nn_seqnet *s);

/* Forward pass and weighted loss over the batch; with grads (nn_model_size floats, same layout as
 * the model's data) non-NULL, also the backward pass accumulating into grads. head_loss[k] (may be
 * NULL) receives each head's loss. When carry is on, the final state becomes the next batch's
 * starting state (truncated BPTT; use reset flags or nn_seqnet_reset_state at sequence starts). */
float nn_seqnet_loss(nn_seqnet *s, const nn_seqnet_batch *b, float *grads, float *head_loss);

/* Keeps (1) or drops (0, the default) the recurrent state between batches. */
void nn_seqnet_set_carry(nn_seqnet *s, int on);

/* Zeroes the carried state. */
void nn_seqnet_reset_state(nn_seqnet *s);

/* The last forward's outputs (logits) of all heads, fused: [T, B, width], head k's columns after
 * those of heads 0..k-1; *width (may be NULL) receives the sum of the head sizes. */
const float *nn_seqnet_logits(const nn_seqnet *s, int *width);

/* The streaming description for this config: layer-0 embeddings folded, LSTM stack, the fused heads
 * as one dense output (logits of all heads, concatenated). */
void nn_seqnet_stream_desc(const nn_seqnet_config *cfg, int max_batch, int flags,
                           nn_stream_desc *d);
