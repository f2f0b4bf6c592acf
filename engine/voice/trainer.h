/* trainer.h: one training step of the timbre autoencoder: the encoder pools context frames of each
 * note segment into its latent z, the decoder runs over packed note segments (time-major rows,
 * the GRU restarted at every note), and the loss compares the decoded harmonics and noise bands
 * with the analysed ones in dB, below a floor 80 dB under the note's loudest harmonic counting as
 * the floor (as the multi-scale spectral distance does). Forward and backward; not real-time. */
#pragma once

#include "engine/voice/model.h"

#include <stdint.h>

#define VOICE_LOSS_RANGE_DB 80.0f /* the floor: this far below the note's loudest harmonic */

typedef struct voice_batch {
    int T, B;                    /* time-major rows: frame (t, b) is index t * B + b */
    const int *seg;              /* [T * B]: the segment a frame belongs to, -1 for padding */
    const uint8_t *reset;        /* [T * B]: a note starts here (the GRU state restarts) */
    const voice_frame *const *target; /* [T * B]: the analysed frame (NULL for padding) */
    int n_seg;                   /* segments (notes) in the batch */
    int ctx;                     /* context frames per segment */
    const float *ctx_in;         /* [n_seg * ctx, VOICE_ENC_IN] encoder inputs */
    const float *floor_db;       /* [n_seg] the harmonic floor of each segment's note */
    const float *z_noise;        /* [n_seg, zdim] added to each pooled z (NULL: none) */
    const float *pitch_shift;    /* [n_seg] semitones added to the decoder's pitch input (NULL: none):
                                  * a note's spectrum read as that of a neighbouring pitch */
    int sample_rate;
} voice_batch;

typedef struct voice_loss_parts {
    double harm, noise, loud, zreg; /* the mean per-frame harmonic, noise and loudness terms, and the z penalty */
    int frames;
} voice_loss_parts;

typedef struct voice_trainer voice_trainer;

/* A trainer for batches of up to T x B frames and max_seg segments of ctx context frames.
 * noise_weight weighs the noise-band term against the harmonic one, loud_weight the loudness term
 * (the decoded frame's A-weighted level against the analysed loudness, in dB); z_l2 penalises
 * the pooled latents' squared norm. NULL with err. */
voice_trainer *voice_trainer_create(voice_model *vm, int T, int B, int max_seg, int ctx,
                                    float noise_weight, float loud_weight, float z_l2, char *err,
                                    size_t errlen);

/* Frees a trainer (NULL is fine). */
void voice_trainer_free(voice_trainer *t);

/* Forward pass and loss over a batch; with grads (nn_model_size floats, the model's layout) also
 * the backward pass, accumulating into grads. parts (may be NULL) receives the loss's terms. */
float voice_trainer_loss(voice_trainer *t, const voice_batch *b, float *grads, voice_loss_parts *parts);

/* The per-frame loss alone: the decoder output y (VOICE_DEC_OUT) for a frame of loudness
 * in_loud_db against the analysed frame tgt with harmonic floor floor_db; dy (may be NULL)
 * receives the gradient scaled by scale. Returns the loss; harm, noise and loud its terms. */
float voice_frame_loss(const float *y, float in_loud_db, const voice_frame *tgt, float floor_db,
                       int sample_rate, float noise_weight, float loud_weight, float scale, float *dy,
                       float *harm, float *noise, float *loud);

/* The harmonic floor of a note: its loudest harmonic in dB less VOICE_LOSS_RANGE_DB. */
float voice_note_floor_db(const voice_frame *frames, size_t n);
