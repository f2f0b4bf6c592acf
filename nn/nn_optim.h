/* nn_optim.h: Adam / AdamW over one contiguous parameter array, global-norm gradient clipping and a
 * learning-rate schedule (linear warm-up, then cosine decay to a floor). */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct nn_adam_config {
    float lr;           /* peak learning rate */
    float beta1, beta2; /* 0.9, 0.999 */
    float eps;          /* 1e-8 */
    float weight_decay; /* AdamW's decoupled decay (0: plain Adam) */
} nn_adam_config;

/* Optimiser state: first and second moments for n parameters, and the step count. */
typedef struct nn_adam {
    nn_adam_config cfg;
    size_t n;
    float *m, *v;
    int64_t step;
} nn_adam;

/* The usual defaults (lr 1e-3, betas 0.9/0.999, eps 1e-8, no weight decay). */
nn_adam_config nn_adam_defaults(void);

/* Allocates zeroed moments for n parameters; 0, or -1 when out of memory. */
int nn_adam_init(nn_adam *a, nn_adam_config cfg, size_t n);

/* Frees the moments. */
void nn_adam_free(nn_adam *a);

/* One step at learning rate lr on params[0..n) from grads (PyTorch's Adam/AdamW update). */
void nn_adam_step(nn_adam *a, float *params, const float *grads, float lr);

/* Scales grads so their global L2 norm is at most max_norm (max_norm <= 0: no clipping); returns
 * the norm before clipping. */
float nn_clip_grad_norm(float *grads, size_t n, float max_norm);

typedef struct nn_schedule {
    float lr;       /* peak */
    float min_lr;   /* floor at the end */
    int64_t warmup; /* steps of linear warm-up from 0 */
    int64_t total;  /* total steps; cosine decay from warmup to total */
} nn_schedule;

/* The learning rate at a step (0-based). */
float nn_schedule_lr(const nn_schedule *s, int64_t step);
