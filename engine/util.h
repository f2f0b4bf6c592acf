/* util.h: small helpers every engine module uses: one-sentence errors and monotonic time. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Formats an error sentence into err (nothing when err is NULL or errlen is 0). */
void bm_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* CLOCK_MONOTONIC in nanoseconds (cheap: real-time safe). */
int64_t bm_now_ns(void);

/* CLOCK_MONOTONIC in seconds. */
double bm_now_s(void);
