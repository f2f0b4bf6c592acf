/* train.h: training the timbre autoencoder on the voice data set (the feature files of
 * make voices-data): loading, packing notes into batches, Adam with a warm-up and cosine schedule,
 * checkpoints that a run resumes from, a validation loss on held-out pitches. Not real-time. */
#pragma once

#include "engine/voice/model.h"

#include <stdint.h>

typedef struct voice_train_opts {
    const char *data_dir;      /* folder of *.bmvf feature files */
    const char *out_path;      /* the trained model (voices/decoder.bmnn) */
    const char *checkpoint;    /* resumed from when present, written as training goes (NULL: none) */
    const char *command_line;  /* recorded in the model's metadata */
    const char *data_sha256;   /* recorded in the model's metadata (may be NULL) */
    voice_model_config model;
    int epochs;
    int rows, T;               /* batch: rows of T frames */
    int ctx;                   /* context frames pooled into each note's z */
    float lr, min_lr;
    int warmup;
    float noise_weight, loud_weight, z_l2, z_noise;
    float pitch_jitter;        /* semitones: each note's pitch input moves by up to this, at random */
    float augment;             /* share of notes heard through a random timbre filter (augment.h) */
    float self_ctx;            /* chance that a note's z comes from its own frames, not a sibling's */
    int threads;
    uint64_t seed;
    int max_notes_per_inst;    /* 0: all (tests use a few) */
    int quiet;
} voice_train_opts;

/* The shipped settings. */
void voice_train_defaults(voice_train_opts *o);

/* Trains and writes o->out_path; progress on stdout. 0, or -1 with one sentence in err. */
int voice_train(const voice_train_opts *o, char *err, size_t errlen);
