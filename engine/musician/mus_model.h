/* mus_model.h: the musician's model: its architecture (embeddings of the step's ids, dense
 * features, an LSTM stack, five heads: bass, drums, comping rhythm, comping chord, lead), files
 * checked on load against this representation, a process-wide cache of loaded models, and the
 * streaming runner that steps it live. */
#pragma once

#include "engine/musician/mus_chords.h"
#include "engine/musician/mus_features.h"
#include "nn/nn_model.h"
#include "nn/nn_seqnet.h"
#include "nn/nn_stream.h"

#include <stddef.h>

enum { MUS_HEAD_BASS = 0, MUS_HEAD_DRUMS, MUS_HEAD_COMP, MUS_HEAD_CHORD, MUS_HEAD_LEAD, MUS_NHEADS };

/* Head widths in MUS_HEAD_* order, and where each starts in the fused logits. */
extern const int mus_head_size[MUS_NHEADS];
int mus_head_offset(int head);
#define MUS_LOGITS (MUS_MONO_VOCAB + MUS_DRUM_UNITS + MUS_COMP_RHYTHM_VOCAB + MUS_NCHORDS + MUS_MONO_VOCAB)

/* The representation's version, recorded in every model file (a file of another is refused). */
#define MUS_REPRESENTATION "bandmate-musician-1"

#define MUS_DENSITY_POINTS 17

typedef struct mus_model {
    nn_model *nn;
    nn_seqnet_config cfg;
    float density_q[MUS_DENSITY_POINTS]; /* band onsets per step at quantiles 0, 1/16, ..., 1 */
    mus_chords_model *chords;            /* the chord tracker's tables, fitted on the training songs
                                            (NULL in a model file without them) */
    char path[1024];
    int refs;
} mus_model;

/* The architecture for layers x hidden. */
nn_seqnet_config mus_model_config(int layers, int hidden);

/* A fresh model with PyTorch-style initialisation; NULL with one sentence in err. */
mus_model *mus_model_create(int layers, int hidden, uint64_t seed, char *err, size_t errlen);

/* Loads and checks a model file; NULL with one sentence in err (missing, damaged, or made for
 * another representation). */
mus_model *mus_model_load(const char *path, char *err, size_t errlen);

/* Records the representation, density table and style names in the model's metadata; 0 or -1. */
int mus_model_tag(mus_model *m);

/* Writes the model (with its density table and representation metadata); 0 or -1 with err. */
int mus_model_save(mus_model *m, const char *path, char *err, size_t errlen);

/* Fits the chord tracker (mus_chords.h) on songs of a corpus and records it in the model's
 * metadata ("chord_tracker"), replacing any; 0 or -1 with err (out of memory). */
struct mus_corpus;
int mus_model_fit_chords(mus_model *m, const struct mus_corpus *c, const int *songs, int n, char *err, size_t errlen);

/* Frees a model made by create or load (not one from mus_model_shared). */
void mus_model_free(mus_model *m);

/* Checks an nn model (e.g. a checkpoint) against the representation; 0 or -1 with err. */
int mus_model_check(const nn_model *nn, nn_seqnet_config *cfg, char *err, size_t errlen);

/* The shared copy of a model file, loaded once per process and counted (thread-safe, not
 * real-time); NULL with one sentence in err. Give it back with mus_model_release. */
mus_model *mus_model_shared(const char *path, char *err, size_t errlen);
void mus_model_release(mus_model *m);

/* The band-density quantile (0..1) of a raw onset rate, and back. */
float mus_density_quantile(const mus_model *m, float rate);

/* The default model file: $BANDMATE_MODEL, else models/musician.bmnn found beside the
 * executable (its folder, its parent or grandparent) or in the working directory. Writes the
 * first that exists (or the first candidate) into out. */
void mus_model_default_path(char *out, size_t cap);

/* ---- live stepping ---- */

typedef struct mus_runner mus_runner;

/* A streaming runner over a model (half-float weights from hidden 256 up); not real-time. */
mus_runner *mus_runner_create(const mus_model *m, char *err, size_t errlen);
void mus_runner_free(mus_runner *r);

/* Zeroes the recurrent state. Real-time safe. */
void mus_runner_reset(mus_runner *r);

/* One step: returns the fused logits of all heads (MUS_LOGITS floats, valid until the next
 * step). Real-time safe: no allocation, bounded time. */
const float *mus_runner_step(mus_runner *r, const int *ids, const float *dense);

/* The recurrent state (nn_stream_state_size floats) for snapshots, and its size. */
float *mus_runner_state(mus_runner *r);
size_t mus_runner_state_size(const mus_runner *r);
