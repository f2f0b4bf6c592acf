/* nn_loss.h: losses, each returning its value and writing the gradient on its input scaled by
 * `scale` (pass the loss weight; 1 for a single loss). Gradients are written (=), not accumulated.
 * mask [n] (NULL: all rows count) weighs rows; losses are means over the weighted rows. */
#pragma once

/* Softmax cross-entropy: logits [n, classes], targets [n] (a negative target skips the row).
 * Returns sum(mask * -log softmax[target]) / sum(mask). dlogits may be NULL. */
float nn_softmax_xent(float *dlogits, const float *logits, const int *targets, const float *mask,
                      int n, int classes, float scale);

/* Sigmoid binary cross-entropy on logits for multi-hot targets [n, k] in [0, 1]: the sum over k
 * of each row's BCE, averaged over the weighted rows. dlogits may be NULL. */
float nn_sigmoid_bce(float *dlogits, const float *logits, const float *targets, const float *mask,
                     int n, int k, float scale);

/* Mean squared error over the weighted rows of pred/target [n, k] (mean over elements). */
float nn_mse(float *dpred, const float *pred, const float *target, const float *mask, int n, int k,
             float scale);

/* Mean absolute error, as nn_mse (the gradient of |0| is taken as 0). */
float nn_l1(float *dpred, const float *pred, const float *target, const float *mask, int n, int k,
            float scale);

typedef struct nn_specloss nn_specloss;

/* A multi-scale log-spectral loss for audio of up to max_len samples: for each FFT size (a power
 * of two, 16..8192), Hann-windowed frames with hop size/4 (only whole frames); per scale the mean
 * of |S_pred - S_target| + log_weight * |log(S_pred + eps) - log(S_target + eps)| over magnitude
 * bins S, summed over scales. Allocates FFT plans; NULL on bad arguments or out of memory. */
nn_specloss *nn_specloss_create(const int *fft_sizes, int n_sizes, int max_len, float log_weight,
                                float eps);

/* Frees a spectral loss (NULL is fine). */
void nn_specloss_free(nn_specloss *s);

/* Loss between pred and target of len samples (len <= max_len); dpred (may be NULL) receives
 * scale * dloss/dpred. Not thread-safe on one object. */
float nn_specloss_eval(nn_specloss *s, float *dpred, const float *pred, const float *target,
                       int len, float scale);
