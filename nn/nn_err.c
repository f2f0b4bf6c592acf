/* nn_err.c: one-sentence error messages for callers' buffers. */
#include "nn/nn_err.h"

#include <stdarg.h>
#include <stdio.h>

int nn_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}
