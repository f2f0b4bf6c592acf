/* nn_err.h: internal: writing a one-sentence error message into a caller's buffer. */
#pragma once

#include <stddef.h>

/* Formats a message into err (when err and errlen are non-zero); always returns -1. */
int nn_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
