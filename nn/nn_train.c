/* nn_train.c: progress line and checkpoints. */
#include "nn/nn_train.h"
#include "nn/nn_err.h"

#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void nn_progress_start(nn_progress *p, int64_t first_step, int64_t total_steps, FILE *out)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->first_step = first_step;
    p->total_steps = total_steps;
    p->t0 = p->last_print = now_s();
}

double nn_progress_rate(const nn_progress *p)
{
    double dt = now_s() - p->t0;
    return dt > 0 ? p->tokens / dt : 0;
}

static void fmt_duration(char *buf, size_t cap, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60) snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, cap, "%lds", t);
}

void nn_progress_step(nn_progress *p, int64_t step, float loss, double tokens, int force)
{
    p->tokens += tokens;
    p->loss_avg = p->have_loss ? 0.9 * p->loss_avg + 0.1 * loss : loss;
    p->have_loss = 1;
    double t = now_s();
    if (!p->out || (!force && t - p->last_print < 1.0)) return;
    p->last_print = t;
    int64_t done = step + 1 - p->first_step, left = p->total_steps - step - 1;
    double per_step = done > 0 ? (t - p->t0) / (double)done : 0;
    char eta[32];
    fmt_duration(eta, sizeof eta, per_step * (double)(left > 0 ? left : 0));
    fprintf(p->out, "step %lld/%lld  loss %.4f  %.0f tok/s  %s left\n", (long long)(step + 1),
            (long long)p->total_steps, p->loss_avg, nn_progress_rate(p), eta);
    fflush(p->out);
}

int nn_checkpoint_save(const char *path, const nn_model *m, const nn_adam *opt, const nn_rng *rng,
                       char *err, size_t errlen)
{
    nn_model *c = nn_model_create();
    if (!c) return nn_seterr(err, errlen, "cannot save the checkpoint %s: out of memory", path);
    int rc = 0;
    for (int i = 0; i < nn_model_count(m) && rc >= 0; i++) {
        const nn_tensor *t = nn_model_tensor(m, i);
        rc = nn_model_add(c, t->name, t->ndim, t->shape);
    }
    int n = (int)(opt ? opt->n : 0);
    if (opt && rc >= 0) rc = nn_model_add(c, "optim.m", 1, &n);
    if (opt && rc >= 0) rc = nn_model_add(c, "optim.v", 1, &n);
    if (rc < 0 || nn_model_alloc(c)) {
        nn_model_free(c);
        return nn_seterr(err, errlen, "cannot save the checkpoint %s: out of memory", path);
    }
    for (int i = 0; i < nn_model_count(m); i++) {
        const nn_tensor *t = nn_model_tensor(m, i);
        memcpy(nn_model_find(c, t->name)->data, t->data, sizeof(float) * t->size);
    }
    for (int i = 0; i < nn_model_hparam_count(m); i++) {
        const char *k = nn_model_hparam_key(m, i);
        int64_t iv;
        double dv;
        if (nn_model_get_int(m, k, &iv) == 0) nn_model_set_int(c, k, iv);
        else if (nn_model_get_float(m, k, &dv) == 0) nn_model_set_float(c, k, dv);
    }
    for (int i = 0; i < nn_model_meta_count(m); i++) {
        const char *k = nn_model_meta_key(m, i);
        nn_model_set_meta(c, k, nn_model_meta(m, k));
    }
    if (opt) {
        memcpy(nn_model_find(c, "optim.m")->data, opt->m, sizeof(float) * opt->n);
        memcpy(nn_model_find(c, "optim.v")->data, opt->v, sizeof(float) * opt->n);
        nn_model_set_int(c, "optim.step", opt->step);
    }
    if (rng)
        for (int i = 0; i < 4; i++) {
            char key[16];
            snprintf(key, sizeof key, "rng.s%d", i);
            nn_model_set_int(c, key, (int64_t)rng->s[i]);
        }
    rc = nn_model_save(c, path, err, errlen);
    nn_model_free(c);
    return rc;
}

int nn_checkpoint_load(const char *path, nn_model *m, nn_adam *opt, nn_rng *rng, char *err,
                       size_t errlen)
{
    char why[512];
    nn_model *c = nn_model_load(path, why, sizeof why);
    if (!c) return nn_seterr(err, errlen, "cannot resume: %s", why);
    int rc = 0;
    for (int i = 0; i < nn_model_count(m) && !rc; i++) {
        const nn_tensor *t = nn_model_tensor(m, i);
        float *src = nn_model_bind(c, t->name, t->ndim, t->shape, why, sizeof why);
        if (!src) rc = nn_seterr(err, errlen, "cannot resume from %s: %s", path, why);
        else memcpy(t->data, src, sizeof(float) * t->size);
    }
    if (!rc && opt) {
        int n = (int)opt->n;
        float *mm = nn_model_bind(c, "optim.m", 1, &n, why, sizeof why);
        float *vv = mm ? nn_model_bind(c, "optim.v", 1, &n, why, sizeof why) : NULL;
        int64_t step;
        if (!mm || !vv || nn_model_get_int(c, "optim.step", &step))
            rc = nn_seterr(err, errlen, "cannot resume from %s: it holds no optimiser state for "
                           "this model (it is a model file, not a checkpoint)", path);
        else {
            memcpy(opt->m, mm, sizeof(float) * opt->n);
            memcpy(opt->v, vv, sizeof(float) * opt->n);
            opt->step = step;
        }
    }
    if (!rc && rng) {
        for (int i = 0; i < 4 && !rc; i++) {
            char key[16];
            int64_t v;
            snprintf(key, sizeof key, "rng.s%d", i);
            if (nn_model_get_int(c, key, &v))
                rc = nn_seterr(err, errlen, "cannot resume from %s: it holds no random-generator "
                               "state", path);
            else rng->s[i] = (uint64_t)v;
        }
    }
    nn_model_free(c);
    return rc;
}
