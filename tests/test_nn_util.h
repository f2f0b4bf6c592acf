/* test_nn_util.h: helpers shared by the nn tests: random fills, finite-difference gradient checks,
 * closeness checks. */
#pragma once

#include "nn/nn_rng.h"
#include "test.h"

#include <stdint.h>

static inline void fill(nn_rng *r, float *p, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++) p[i] = scale * (2.0f * nn_rng_uniform(r) - 1.0f);
}

/* Sum of r[i] * y[i] in double: a scalar loss whose gradient on y is r. */
static inline double dotd(const float *r, const float *y, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)r[i] * y[i];
    return s;
}

typedef double (*gc_loss)(void *ctx);

/* Checks analytic gradients grad[0..n) of loss(ctx) with respect to param[0..n) against central
 * differences at up to `samples` coordinates: |a - num| <= atol + rtol * max(|a|, |num|). */
static inline void gradcheck_at(const char *file, int line, const char *what, gc_loss loss,
                                void *ctx, float *param, const float *grad, size_t n, int samples,
                                float eps, double rtol, double atol)
{
    nn_rng r;
    nn_rng_seed(&r, 99 + n);
    int count = (size_t)samples < n ? samples : (int)n;
    for (int s = 0; s < count; s++) {
        size_t i = (size_t)samples < n ? nn_rng_below(&r, (uint32_t)n) : (size_t)s;
        float p = param[i];
        param[i] = p + eps;
        double lp = loss(ctx);
        param[i] = p - eps;
        double lm = loss(ctx);
        param[i] = p;
        double num = (lp - lm) / (2.0 * eps), a = grad[i];
        double tol = atol + rtol * (fabs(a) > fabs(num) ? fabs(a) : fabs(num));
        if (!(fabs(a - num) <= tol))
            test_fail(file, line, "%s: gradient[%zu] = %.7g but finite differences give %.7g",
                      what, i, a, num);
    }
}
#define GRADCHECK(what, loss, ctx, param, grad, n) \
    gradcheck_at(__FILE__, __LINE__, what, loss, ctx, param, grad, n, 40, 1e-2f, 2e-2, 2e-4)

/* Max |a - b| / (atol + rtol |b|) must be <= 1. */
static inline void close_at(const char *file, int line, const char *what, const float *a,
                            const float *b, size_t n, double atol, double rtol)
{
    for (size_t i = 0; i < n; i++) {
        double tol = atol + rtol * fabs((double)b[i]);
        if (!(fabs((double)a[i] - b[i]) <= tol))
            test_fail(file, line, "%s[%zu] = %.8g, expected %.8g (atol %g, rtol %g)", what, i,
                      a[i], b[i], atol, rtol);
    }
}
#define CHECK_CLOSE(what, a, b, n, atol, rtol) close_at(__FILE__, __LINE__, what, a, b, n, atol, rtol)
