/* util.h: small helpers every engine module uses: one-sentence errors, whole-file reads and
 * monotonic time. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Formats an error sentence into err (nothing when err is NULL or errlen is 0). */
void bm_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reads a whole regular file of at most max_bytes into a new malloc'd buffer (one byte more,
 * zeroed, follows the data); 0, or -1 with one sentence in err ("cannot open ...", "cannot read
 * ...: it is larger than ..."). Not real-time. */
int bm_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *size, char *err, size_t errlen);

/* CLOCK_MONOTONIC in nanoseconds (cheap: real-time safe). */
int64_t bm_now_ns(void);

/* CLOCK_MONOTONIC in seconds. */
double bm_now_s(void);
