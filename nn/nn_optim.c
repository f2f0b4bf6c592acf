/* nn_optim.c: Adam/AdamW, gradient clipping, learning-rate schedule. */
#include "nn/nn_optim.h"
#include "nn/nn_mem.h"

#include <math.h>

nn_adam_config nn_adam_defaults(void)
{
    return (nn_adam_config){1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f};
}

int nn_adam_init(nn_adam *a, nn_adam_config cfg, size_t n)
{
    a->cfg = cfg;
    a->n = n;
    a->step = 0;
    a->m = nn_alloc_array(n ? n : 1, sizeof(float));
    a->v = nn_alloc_array(n ? n : 1, sizeof(float));
    if (!a->m || !a->v) {
        nn_adam_free(a);
        return -1;
    }
    return 0;
}

void nn_adam_free(nn_adam *a)
{
    nn_free(a->m);
    nn_free(a->v);
    a->m = a->v = NULL;
}

void nn_adam_step(nn_adam *a, float *params, const float *grads, float lr)
{
    a->step++;
    float b1 = a->cfg.beta1, b2 = a->cfg.beta2, eps = a->cfg.eps, wd = a->cfg.weight_decay;
    float c1 = (float)(1.0 - pow(b1, (double)a->step));
    float c2 = (float)(1.0 - pow(b2, (double)a->step));
    float step_size = lr / c1, inv_sqrt_c2 = 1.0f / sqrtf(c2);
    float *m = a->m, *v = a->v;
    for (size_t i = 0; i < a->n; i++) {
        float g = grads[i];
        m[i] = b1 * m[i] + (1.0f - b1) * g;
        v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        if (wd != 0) params[i] *= 1.0f - lr * wd;
        params[i] -= step_size * m[i] / (sqrtf(v[i]) * inv_sqrt_c2 + eps);
    }
}

float nn_clip_grad_norm(float *grads, size_t n, float max_norm)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)grads[i] * grads[i];
    float norm = (float)sqrt(ss);
    if (max_norm > 0 && norm > max_norm) {
        float k = max_norm / (norm + 1e-6f);
        for (size_t i = 0; i < n; i++) grads[i] *= k;
    }
    return norm;
}

float nn_schedule_lr(const nn_schedule *s, int64_t step)
{
    if (s->warmup > 0 && step < s->warmup) return s->lr * (float)(step + 1) / (float)s->warmup;
    if (s->total <= s->warmup) return s->lr;
    double t = (double)(step - s->warmup) / (double)(s->total - s->warmup);
    if (t > 1) t = 1;
    return s->min_lr + (s->lr - s->min_lr) * 0.5f * (float)(1.0 + cos(3.14159265358979 * t));
}
