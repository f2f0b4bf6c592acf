/* nn_train.h: training helpers: a progress line and checkpoints (model + optimiser + RNG) that
 * a run resumes from. Not real-time. */
#pragma once

#include "nn/nn_model.h"
#include "nn/nn_optim.h"
#include "nn/nn_rng.h"

#include <stdint.h>
#include <stdio.h>

typedef struct nn_progress {
    FILE *out;
    int64_t first_step, total_steps;
    double t0, last_print, tokens, loss_avg;
    int have_loss;
} nn_progress;

/* Starts timing a run that goes from first_step to total_steps, printing to out (NULL: silent). */
void nn_progress_start(nn_progress *p, int64_t first_step, int64_t total_steps, FILE *out);

/* Records a finished step (0-based) with its loss and token count; prints a line
 * "step S/N  loss L  T tok/s  M left" at most once a second, or always when force is set. */
void nn_progress_step(nn_progress *p, int64_t step, float loss, double tokens, int force);

/* Tokens per second since the start. */
double nn_progress_rate(const nn_progress *p);

/* Writes a checkpoint: the model's tensors, hyper-parameters and metadata, the optimiser's moments
 * and step, and the RNG state (rng may be NULL); 0, or -1 with one sentence in err. */
int nn_checkpoint_save(const char *path, const nn_model *m, const nn_adam *opt, const nn_rng *rng,
                       char *err, size_t errlen);

/* Resumes from a checkpoint into an allocated model of the same architecture and an initialised
 * optimiser of the same size (rng may be NULL); 0, or -1 with one sentence in err. */
int nn_checkpoint_load(const char *path, nn_model *m, nn_adam *opt, nn_rng *rng, char *err,
                       size_t errlen);
