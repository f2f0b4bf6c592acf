/* nn_loss.c: cross-entropy, binary cross-entropy, MSE, L1 and the multi-scale spectral loss. */
#include "nn/nn_loss.h"
#include "nn/nn_mem.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

static double mask_sum(const float *mask, const int *targets, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        if (!targets || targets[i] >= 0) s += mask ? mask[i] : 1.0f;
    return s;
}

float nn_softmax_xent(float *dlogits, const float *logits, const int *targets, const float *mask,
                      int n, int classes, float scale)
{
    double norm = mask_sum(mask, targets, n), loss = 0;
    float inv = norm > 0 ? (float)(1.0 / norm) : 0;
    for (int i = 0; i < n; i++) {
        const float *l = logits + (size_t)i * classes;
        float *d = dlogits ? dlogits + (size_t)i * classes : NULL;
        float w = mask ? mask[i] : 1.0f;
        int t = targets[i];
        if (t < 0 || t >= classes || w == 0 || norm <= 0) {
            if (d) memset(d, 0, sizeof(float) * (size_t)classes);
            continue;
        }
        float mx = l[0];
        for (int j = 1; j < classes; j++) mx = l[j] > mx ? l[j] : mx;
        double sum = 0;
        for (int j = 0; j < classes; j++) sum += exp((double)(l[j] - mx));
        double lse = log(sum) + mx;
        loss += w * (lse - l[t]);
        if (d) {
            float g = w * inv * scale;
            for (int j = 0; j < classes; j++) d[j] = g * (float)exp((double)l[j] - lse);
            d[t] -= g;
        }
    }
    return (float)(norm > 0 ? loss / norm : 0);
}

float nn_sigmoid_bce(float *dlogits, const float *logits, const float *targets, const float *mask,
                     int n, int k, float scale)
{
    double norm = mask_sum(mask, NULL, n), loss = 0;
    float inv = norm > 0 ? (float)(1.0 / norm) : 0;
    for (int i = 0; i < n; i++) {
        float w = mask ? mask[i] : 1.0f;
        for (int j = 0; j < k; j++) {
            size_t idx = (size_t)i * k + j;
            float x = logits[idx], y = targets[idx];
            /* log(1 + e^-|x|) + max(x, 0) - x y: stable for any x */
            double l = log1p(exp(-fabs((double)x))) + (x > 0 ? x : 0) - (double)x * y;
            loss += w * l;
            if (dlogits) dlogits[idx] = w * inv * scale * (1.0f / (1.0f + expf(-x)) - y);
        }
    }
    return (float)(norm > 0 ? loss / norm : 0);
}

static float pointwise(int l1, float *dpred, const float *pred, const float *target,
                       const float *mask, int n, int k, float scale)
{
    double norm = mask_sum(mask, NULL, n) * k, loss = 0;
    float inv = norm > 0 ? (float)(1.0 / norm) : 0;
    for (int i = 0; i < n; i++) {
        float w = mask ? mask[i] : 1.0f;
        for (int j = 0; j < k; j++) {
            size_t idx = (size_t)i * k + j;
            float e = pred[idx] - target[idx];
            loss += w * (l1 ? fabs((double)e) : (double)e * e);
            if (dpred)
                dpred[idx] = w * inv * scale * (l1 ? (float)((e > 0) - (e < 0)) : 2.0f * e);
        }
    }
    return (float)(norm > 0 ? loss / norm : 0);
}

float nn_mse(float *dpred, const float *pred, const float *target, const float *mask, int n, int k,
             float scale)
{
    return pointwise(0, dpred, pred, target, mask, n, k, scale);
}

float nn_l1(float *dpred, const float *pred, const float *target, const float *mask, int n, int k,
            float scale)
{
    return pointwise(1, dpred, pred, target, mask, n, k, scale);
}

/* ---- multi-scale spectral loss ---- */

#define MAX_SCALES 12

struct nn_specloss {
    int n, sizes[MAX_SCALES], max_len;
    float log_weight, eps;
    float *win[MAX_SCALES];
    float *frame, *grad;          /* real buffers of the largest size */
    fftwf_complex *sp, *st, *g;   /* spectra: pred, target, gradient */
    fftwf_plan fwd[MAX_SCALES], inv[MAX_SCALES];
};

static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER; /* FFTW's planner is not thread-safe */

void nn_specloss_free(nn_specloss *s)
{
    if (!s) return;
    pthread_mutex_lock(&plan_lock);
    for (int i = 0; i < s->n; i++) {
        if (s->fwd[i]) fftwf_destroy_plan(s->fwd[i]);
        if (s->inv[i]) fftwf_destroy_plan(s->inv[i]);
    }
    pthread_mutex_unlock(&plan_lock);
    for (int i = 0; i < s->n; i++) nn_free(s->win[i]);
    fftwf_free(s->frame);
    fftwf_free(s->grad);
    fftwf_free(s->sp);
    fftwf_free(s->st);
    fftwf_free(s->g);
    nn_free(s);
}

nn_specloss *nn_specloss_create(const int *fft_sizes, int n_sizes, int max_len, float log_weight,
                                float eps)
{
    if (n_sizes < 1 || n_sizes > MAX_SCALES || max_len < 1 || !(eps > 0)) return NULL;
    int big = 0;
    for (int i = 0; i < n_sizes; i++) {
        int N = fft_sizes[i];
        if (N < 16 || N > 8192 || (N & (N - 1))) return NULL;
        big = N > big ? N : big;
    }
    nn_specloss *s = nn_alloc(sizeof *s);
    if (!s) return NULL;
    s->n = n_sizes;
    s->max_len = max_len;
    s->log_weight = log_weight;
    s->eps = eps;
    s->frame = fftwf_alloc_real((size_t)big);
    s->grad = fftwf_alloc_real((size_t)big);
    s->sp = fftwf_alloc_complex((size_t)big / 2 + 1);
    s->st = fftwf_alloc_complex((size_t)big / 2 + 1);
    s->g = fftwf_alloc_complex((size_t)big / 2 + 1);
    if (!s->frame || !s->grad || !s->sp || !s->st || !s->g) goto fail;
    pthread_mutex_lock(&plan_lock);
    for (int i = 0; i < n_sizes; i++) {
        int N = s->sizes[i] = fft_sizes[i];
        s->fwd[i] = fftwf_plan_dft_r2c_1d(N, s->frame, s->sp, FFTW_ESTIMATE);
        s->inv[i] = fftwf_plan_dft_c2r_1d(N, s->g, s->grad, FFTW_ESTIMATE);
    }
    pthread_mutex_unlock(&plan_lock);
    for (int i = 0; i < n_sizes; i++) {
        int N = s->sizes[i];
        if (!s->fwd[i] || !s->inv[i] || !(s->win[i] = nn_alloc(sizeof(float) * (size_t)N)))
            goto fail;
        for (int j = 0; j < N; j++) s->win[i][j] = 0.5f - 0.5f * cosf(6.2831853f * j / N);
    }
    return s;
fail:
    nn_specloss_free(s);
    return NULL;
}

float nn_specloss_eval(nn_specloss *s, float *dpred, const float *pred, const float *target,
                       int len, float scale)
{
    if (dpred) memset(dpred, 0, sizeof(float) * (size_t)len);
    if (len > s->max_len) return NAN;
    double total = 0;
    for (int si = 0; si < s->n; si++) {
        int N = s->sizes[si], hop = N / 4, K = N / 2 + 1;
        if (len < N) continue;
        int frames = 1 + (len - N) / hop;
        double norm = (double)frames * K, sum = 0;
        const float *w = s->win[si];
        for (int f = 0; f < frames; f++) {
            const float *xp = pred + (size_t)f * hop, *xt = target + (size_t)f * hop;
            for (int j = 0; j < N; j++) s->frame[j] = xp[j] * w[j];
            fftwf_execute_dft_r2c(s->fwd[si], s->frame, s->sp);
            for (int j = 0; j < N; j++) s->frame[j] = xt[j] * w[j];
            fftwf_execute_dft_r2c(s->fwd[si], s->frame, s->st);
            for (int k = 0; k < K; k++) {
                float pr = s->sp[k][0], pi = s->sp[k][1], tr = s->st[k][0], ti = s->st[k][1];
                float mp = sqrtf(pr * pr + pi * pi), mt = sqrtf(tr * tr + ti * ti);
                float dlin = mp - mt;
                float dlog = logf(mp + s->eps) - logf(mt + s->eps);
                sum += fabsf(dlin) + s->log_weight * fabsf(dlog);
                /* dL/d|X|, then dL/dX = that * X / |X| (zero where |X| is zero) */
                float gm = (float)((dlin > 0) - (dlin < 0)) +
                           s->log_weight * (float)((dlog > 0) - (dlog < 0)) / (mp + s->eps);
                gm *= (float)(scale / norm);
                float gr = mp > 0 ? gm * pr / mp : 0, gi = mp > 0 ? gm * pi / mp : 0;
                /* the real adjoint of the half-spectrum transform: c2r doubles inner bins */
                float half = (k == 0 || k == N / 2) ? 1.0f : 0.5f;
                s->g[k][0] = gr * half;
                s->g[k][1] = gi * half;
            }
            if (dpred) {
                fftwf_execute_dft_c2r(s->inv[si], s->g, s->grad);
                float *d = dpred + (size_t)f * hop;
                for (int j = 0; j < N; j++) d[j] += s->grad[j] * w[j];
            }
        }
        total += sum / norm;
    }
    return (float)total;
}
