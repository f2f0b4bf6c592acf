/* util.c: error sentences, whole-file reads and monotonic time. */
#include "engine/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int bm_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *size, char *err, size_t errlen)
{
    *data = NULL;
    *size = 0;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        bm_errf(err, errlen, "cannot read %s: it is %s", path, S_ISDIR(st.st_mode) ? "a folder" : "not a regular file");
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        bm_errf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    if (len < 0 || (unsigned long long)len > max_bytes) {
        if (len < 0) bm_errf(err, errlen, "cannot read %s: it is not a regular file", path);
        else bm_errf(err, errlen, "cannot read %s: it is larger than %zu MiB", path, max_bytes >> 20);
        fclose(f);
        return -1;
    }
    rewind(f);
    uint8_t *buf = malloc((size_t)len + 1);
    if (!buf) {
        fclose(f);
        bm_errf(err, errlen, "out of memory reading %s", path);
        return -1;
    }
    size_t got = fread(buf, 1, (size_t)len, f);
    int ioerr = ferror(f);
    fclose(f);
    if (ioerr || got != (size_t)len) {
        free(buf);
        bm_errf(err, errlen, "cannot read %s", path);
        return -1;
    }
    buf[got] = 0;
    *data = buf;
    *size = got;
    return 0;
}
