/* nn_model_file.c: the bandmate model-file format (docs/model-format.md): write, read, validate. */
#include "nn/nn_err.h"
#include "nn/nn_mem.h"
#include "nn/nn_model.h"
#include "nn/nn_model_priv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define VERSION 1u
#define HEADER_BYTES 32u
#define TRAILER_BYTES 8u
#define MAX_TENSORS 65536u
#define MAX_ENTRIES 65536u

static const uint8_t magic[8] = {0x89, 'B', 'M', 'N', 'N', 0x0d, 0x0a, 0x1a};
static const uint8_t end_tag[4] = {'B', 'M', 'N', 'E'};

uint32_t nn_crc32(uint32_t crc, const void *buf, size_t len)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* computing the same table twice from two threads is harmless */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const uint8_t *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- writing ---- */

struct wr {
    uint8_t *p;
    size_t pos;
};

static void put(struct wr *w, const void *src, size_t n)
{
    if (w->p) memcpy(w->p + w->pos, src, n);
    w->pos += n;
}

static void put_u8(struct wr *w, uint8_t v) { put(w, &v, 1); }

static void put_u32(struct wr *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(w, b, 4);
}

static void put_u64(struct wr *w, uint64_t v)
{
    put_u32(w, (uint32_t)v);
    put_u32(w, (uint32_t)(v >> 32));
}

static void put_name(struct wr *w, const char *s)
{
    size_t n = strlen(s);
    put_u8(w, (uint8_t)n);
    put(w, s, n);
}

static void pad_to(struct wr *w, size_t align)
{
    while (w->pos % align) put_u8(w, 0);
}

/* Writes the whole file into w (w->p NULL: only measures). */
static void emit(const nn_model *m, struct wr *w)
{
    put(w, magic, 8);
    put_u32(w, VERSION);
    put_u32(w, HEADER_BYTES);
    put_u32(w, (uint32_t)m->n_hparams);
    put_u32(w, (uint32_t)m->n_meta);
    put_u32(w, (uint32_t)m->n_tensors);
    put_u32(w, 0);
    for (int i = 0; i < m->n_hparams; i++) {
        const struct nn_hparam *h = &m->hparams[i];
        put_name(w, h->key);
        put_u8(w, (uint8_t)h->type);
        uint64_t bits;
        if (h->type == NN_HP_INT) bits = (uint64_t)h->i;
        else memcpy(&bits, &h->f, 8);
        put_u64(w, bits);
    }
    for (int i = 0; i < m->n_meta; i++) {
        put_name(w, m->meta[i].key);
        size_t n = strlen(m->meta[i].value);
        put_u32(w, (uint32_t)n);
        put(w, m->meta[i].value, n);
    }
    for (int i = 0; i < m->n_tensors; i++) {
        const nn_tensor *t = &m->tensors[i];
        put_name(w, t->name);
        put_u8(w, 1); /* float32 little-endian */
        put_u8(w, (uint8_t)t->ndim);
        for (int d = 0; d < t->ndim; d++) put_u32(w, (uint32_t)t->shape[d]);
        put_u64(w, (uint64_t)t->offset * 4);
    }
    pad_to(w, 64);
    size_t data_start = w->pos;
    for (int i = 0; i < m->n_tensors; i++) {
        const nn_tensor *t = &m->tensors[i];
        while (w->pos < data_start + t->offset * 4) put_u8(w, 0);
        for (size_t k = 0; k < t->size; k++) {
            uint32_t bits;
            memcpy(&bits, &t->data[k], 4);
            put_u32(w, bits);
        }
    }
    while (w->pos < data_start + m->size * 4) put_u8(w, 0);
    put(w, end_tag, 4);
    uint32_t crc = w->p ? nn_crc32(0, w->p, w->pos) : 0;
    put_u32(w, crc);
}

void *nn_model_serialize(const nn_model *m, size_t *len)
{
    if (!m || !m->data) return NULL;
    struct wr w = {NULL, 0};
    emit(m, &w);
    size_t n = w.pos;
    w.p = nn_alloc(n);
    if (!w.p) return NULL;
    w.pos = 0;
    emit(m, &w);
    *len = n;
    return w.p;
}

int nn_model_save(const nn_model *m, const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    uint8_t *buf = nn_model_serialize(m, &len);
    if (!buf) return nn_seterr(err, errlen, "cannot save %s: out of memory (or the model has no "
                               "tensors allocated)", path);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        nn_free(buf);
        return nn_seterr(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
    }
    size_t wrote = fwrite(buf, 1, len, f);
    nn_free(buf);
    int bad = wrote != len;
    if (fflush(f) != 0) bad = 1;
    if (fclose(f) != 0) bad = 1;
    if (bad) {
        remove(tmp);
        return nn_seterr(err, errlen, "cannot write %s: the disk is full or failing", path);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return nn_seterr(err, errlen, "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

/* ---- reading ---- */

struct rd {
    const uint8_t *p;
    size_t len, pos;
    int short_read;
};

static int get(struct rd *r, void *dst, size_t n)
{
    if (r->short_read || n > r->len - r->pos) {
        r->short_read = 1;
        return -1;
    }
    memcpy(dst, r->p + r->pos, n);
    r->pos += n;
    return 0;
}

static uint8_t get_u8(struct rd *r)
{
    uint8_t v = 0;
    get(r, &v, 1);
    return v;
}

static uint32_t get_u32(struct rd *r)
{
    uint8_t b[4] = {0};
    get(r, b, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get_u64(struct rd *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}

/* Reads a length-prefixed name into out; 0, or -1 (too long, empty or bad characters). */
static int get_name(struct rd *r, char *out)
{
    uint8_t n = get_u8(r);
    if (n == 0 || n > NN_NAME_MAX || get(r, out, n)) return -1;
    out[n] = 0;
    return strlen(out) == n && nn_name_ok(out) ? 0 : -1;
}

nn_model *nn_model_load_mem(const void *buf, size_t len, const char *what, char *err,
                            size_t errlen)
{
    const uint8_t *p = buf;
    if (!what) what = "the model";
    if (!buf || len < HEADER_BYTES + TRAILER_BYTES) {
        nn_seterr(err, errlen, "%s is too short (%zu bytes) to be a bandmate model file", what, len);
        return NULL;
    }
    if (memcmp(p, magic, 8) != 0) {
        nn_seterr(err, errlen, "%s is not a bandmate model file (it does not start with the "
                  "model-file magic number)", what);
        return NULL;
    }
    struct rd r = {p, len, 8, 0};
    uint32_t version = get_u32(&r);
    if (version != VERSION) {
        nn_seterr(err, errlen, "%s is model-file version %u but this bandmate reads version %u; "
                  "use a matching bandmate or re-export the model", what, version, VERSION);
        return NULL;
    }
    uint32_t stored_crc = (uint32_t)p[len - 4] | (uint32_t)p[len - 3] << 8 |
                          (uint32_t)p[len - 2] << 16 | (uint32_t)p[len - 1] << 24;
    if (memcmp(p + len - 8, end_tag, 4) != 0 || nn_crc32(0, p, len - 4) != stored_crc) {
        nn_seterr(err, errlen, "%s is truncated or damaged (its checksum does not match its "
                  "contents); copy or export it again", what);
        return NULL;
    }
    size_t body_end = len - TRAILER_BYTES;
    r.len = body_end;
    uint32_t header = get_u32(&r), n_hp = get_u32(&r), n_meta = get_u32(&r);
    uint32_t n_t = get_u32(&r), flags = get_u32(&r);
    if (header != HEADER_BYTES || flags != 0) {
        nn_seterr(err, errlen, "%s has a malformed header (size %u, flags %u)", what, header, flags);
        return NULL;
    }
    if (n_hp > MAX_ENTRIES || n_meta > MAX_ENTRIES || n_t > MAX_TENSORS) {
        nn_seterr(err, errlen, "%s is malformed: it claims %u hyper-parameters, %u metadata "
                  "entries and %u tensors, more than a model file may hold", what, n_hp, n_meta, n_t);
        return NULL;
    }
    nn_model *m = nn_model_create();
    if (!m) goto oom;
    char key[NN_NAME_MAX + 1];
    for (uint32_t i = 0; i < n_hp; i++) {
        if (get_name(&r, key)) goto bad_entry;
        uint8_t type = get_u8(&r);
        uint64_t bits = get_u64(&r);
        if (r.short_read) goto truncated;
        if (nn_model_get_float(m, key, &(double){0}) == 0) goto duplicate;
        int rc;
        if (type == NN_HP_INT) rc = nn_model_set_int(m, key, (int64_t)bits);
        else if (type == NN_HP_FLOAT) {
            double d;
            memcpy(&d, &bits, 8);
            rc = nn_model_set_float(m, key, d);
        } else {
            nn_seterr(err, errlen, "%s is malformed: hyper-parameter '%s' has unknown type %u",
                      what, key, type);
            goto fail;
        }
        if (rc) goto oom;
    }
    for (uint32_t i = 0; i < n_meta; i++) {
        if (get_name(&r, key)) goto bad_entry;
        uint32_t vlen = get_u32(&r);
        if (r.short_read || vlen > r.len - r.pos) goto truncated;
        if (vlen > NN_META_MAX || memchr(p + r.pos, 0, vlen)) {
            nn_seterr(err, errlen, "%s is malformed: metadata '%s' is too long or holds a NUL byte",
                      what, key);
            goto fail;
        }
        if (nn_model_meta(m, key)) goto duplicate;
        char *v = nn_alloc((size_t)vlen + 1);
        if (!v) goto oom;
        memcpy(v, p + r.pos, vlen);
        r.pos += vlen;
        int rc = nn_model_set_meta(m, key, v);
        nn_free(v);
        if (rc) goto oom;
    }
    for (uint32_t i = 0; i < n_t; i++) {
        if (get_name(&r, key)) goto bad_entry;
        uint8_t dtype = get_u8(&r), ndim = get_u8(&r);
        if (r.short_read) goto truncated;
        if (dtype != 1 || ndim < 1 || ndim > NN_MAX_DIMS) {
            nn_seterr(err, errlen, "%s is malformed: tensor '%s' has data type %u and %u "
                      "dimensions (float32 and 1 to %d are allowed)", what, key, dtype, ndim,
                      NN_MAX_DIMS);
            goto fail;
        }
        int shape[NN_MAX_DIMS];
        for (int d = 0; d < ndim; d++) {
            uint32_t s = get_u32(&r);
            if (s == 0 || s > (1u << 30)) {
                nn_seterr(err, errlen, "%s is malformed: tensor '%s' has a dimension of %u",
                          what, key, s);
                goto fail;
            }
            shape[d] = (int)s;
        }
        uint64_t offset = get_u64(&r);
        if (r.short_read) goto truncated;
        if (nn_model_find(m, key)) goto duplicate;
        size_t expect = m->size * 4, count = 1;
        for (int d = 0; d < ndim; d++) {
            count *= (size_t)shape[d];
            if (count > len / 4) {
                nn_seterr(err, errlen, "%s is malformed: tensor '%s' is larger than the file",
                          what, key);
                goto fail;
            }
        }
        if (nn_model_add(m, key, ndim, shape) < 0) goto oom;
        if (offset != expect) {
            nn_seterr(err, errlen, "%s is malformed: tensor '%s' starts at byte %llu of the data "
                      "where %zu was expected", what, key, (unsigned long long)offset, expect);
            goto fail;
        }
    }
    size_t data_start = (r.pos + 63) & ~(size_t)63;
    if (data_start > body_end || m->size > (body_end - data_start) / 4 ||
        body_end - data_start != m->size * 4) {
        nn_seterr(err, errlen, "%s is malformed: its tensor data is %zu bytes where the tensor "
                  "table describes %zu", what, body_end > data_start ? body_end - data_start : 0,
                  m->size * 4);
        goto fail;
    }
    for (size_t i = r.pos; i < data_start; i++)
        if (p[i]) goto padding;
    if (nn_model_alloc(m)) goto oom;
    for (int i = 0; i < m->n_tensors; i++) {
        nn_tensor *t = &m->tensors[i];
        const uint8_t *src = p + data_start + t->offset * 4;
        size_t end = i + 1 < m->n_tensors ? m->tensors[i + 1].offset : m->size;
        for (size_t k = (t->offset + t->size) * 4; k < end * 4; k++)
            if (p[data_start + k]) goto padding;
        for (size_t k = 0; k < t->size; k++) {
            uint32_t bits = (uint32_t)src[4 * k] | (uint32_t)src[4 * k + 1] << 8 |
                            (uint32_t)src[4 * k + 2] << 16 | (uint32_t)src[4 * k + 3] << 24;
            memcpy(&t->data[k], &bits, 4);
            if (!isfinite(t->data[k])) {
                nn_seterr(err, errlen, "%s holds a NaN or infinite value in tensor '%s' (the "
                          "training that wrote it diverged); retrain it", what, t->name);
                goto fail;
            }
        }
    }
    return m;

padding:
    nn_seterr(err, errlen, "%s is malformed: its padding bytes are not zero", what);
    goto fail;
truncated:
    nn_seterr(err, errlen, "%s is malformed: its tables run past the end of the file", what);
    goto fail;
bad_entry:
    if (r.short_read) goto truncated;
    nn_seterr(err, errlen, "%s is malformed: a name in its tables is empty, too long or holds "
              "characters other than letters, digits and _.:/-", what);
    goto fail;
duplicate:
    nn_seterr(err, errlen, "%s is malformed: the name '%s' appears twice", what, key);
    goto fail;
oom:
    nn_seterr(err, errlen, "cannot load %s: out of memory", what);
fail:
    nn_model_free(m);
    return NULL;
}

nn_model *nn_model_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        nn_seterr(err, errlen, "cannot open the model file %s: %s", path, strerror(errno));
        return NULL;
    }
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        nn_seterr(err, errlen, "cannot read the model file %s: it is not a regular file", path);
        return NULL;
    }
    uint8_t *buf = nn_alloc((size_t)len);
    if (!buf) {
        fclose(f);
        nn_seterr(err, errlen, "cannot load %s: out of memory (%ld bytes)", path, len);
        return NULL;
    }
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    nn_model *m = NULL;
    if (got != (size_t)len) nn_seterr(err, errlen, "cannot read the model file %s: read error", path);
    else m = nn_model_load_mem(buf, (size_t)len, path, err, errlen);
    nn_free(buf);
    return m;
}
