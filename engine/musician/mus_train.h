/* mus_train.h: trains the musician on a corpus folder: truncated BPTT over the streams of
 * mus_batch, AdamW with warm-up and cosine decay, gradient clipping, validation on held-out songs
 * (the best model is kept), checkpoints to resume from, a progress line, a TSV log and a PNG of
 * the loss curves. Not real-time. */
#pragma once

#include <stdint.h>
#include <stdio.h>

typedef struct mus_train_opts {
    const char *corpus;       /* folder of MIDI files (+ charts) */
    const char *out;          /* the model file (the best on validation) */
    const char *checkpoint;   /* NULL: OUT.ckpt */
    const char *log_tsv;      /* NULL: no TSV log */
    const char *plot_png;     /* NULL: no picture */
    int layers, hidden, T, B;
    long steps;               /* optimiser steps */
    double minutes;           /* > 0: fit the number of steps to this time (measured on the first steps) */
    float lr, min_lr, weight_decay, clip;
    int warmup, valid_every, ckpt_every;
    int valid_songs, valid_steps; /* validation: this many songs, this many steps of each */
    int max_songs;            /* 0: the whole corpus */
    int threads;
    uint64_t seed;
    int resume;               /* continue from the checkpoint when it exists */
    int plain;                /* no augmentation: the band alone, songs as written (memorising) */
    int chords_only;          /* fit only the chord tracker into the existing model at out */
    FILE *report;             /* progress and report (NULL: silent) */
} mus_train_opts;

/* The defaults (2 x 256 LSTM, T 64, B 32, 20,000 steps, lr 2e-3 ...). */
void mus_train_defaults(mus_train_opts *o);

/* Trains; 0, or -1 with one sentence in err. */
int mus_train_run(const mus_train_opts *o, char *err, size_t errlen);
