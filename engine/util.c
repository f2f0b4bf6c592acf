/* util.c: error sentences and monotonic time. */
#include "engine/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void bm_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int64_t bm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double bm_now_s(void) { return (double)bm_now_ns() * 1e-9; }
