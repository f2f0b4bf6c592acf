/* nn_model.c: the model container: tensor table, hyper-parameters, metadata. */
#include "nn/nn_model.h"
#include "nn/nn_err.h"
#include "nn/nn_mem.h"
#include "nn/nn_model_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nn_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NN_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == '-' || c == ':' || c == '/';
        if (!ok) return 0;
    }
    return 1;
}

static int grow(void **arr, int *cap, int need, size_t elem)
{
    if (need <= *cap) return 0;
    int ncap = *cap ? *cap * 2 : 16;
    while (ncap < need) ncap *= 2;
    void *p = nn_alloc_array((size_t)ncap, elem);
    if (!p) return -1;
    if (*arr) memcpy(p, *arr, (size_t)*cap * elem);
    nn_free(*arr);
    *arr = p;
    *cap = ncap;
    return 0;
}

nn_model *nn_model_create(void) { return nn_alloc(sizeof(nn_model)); }

void nn_model_free(nn_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_meta; i++) nn_free(m->meta[i].value);
    nn_free(m->meta);
    nn_free(m->hparams);
    nn_free(m->tensors);
    nn_free(m->data);
    nn_free(m);
}

int nn_model_add(nn_model *m, const char *name, int ndim, const int *shape)
{
    if (!m || m->data || !name || !nn_name_ok(name) || ndim < 1 || ndim > NN_MAX_DIMS) return -1;
    if (nn_model_find(m, name)) return -1;
    size_t size = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1) return -1;
        if (size > ((size_t)1 << 40) / (size_t)shape[d]) return -1;
        size *= (size_t)shape[d];
    }
    if (grow((void **)&m->tensors, &m->cap_tensors, m->n_tensors + 1, sizeof(nn_tensor))) return -1;
    nn_tensor *t = &m->tensors[m->n_tensors];
    memset(t, 0, sizeof *t);
    strcpy(t->name, name);
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
    t->size = size;
    t->offset = m->size;
    m->size += (size + 15) & ~(size_t)15;
    return m->n_tensors++;
}

int nn_model_alloc(nn_model *m)
{
    if (!m || m->data) return -1;
    m->data = nn_alloc_array(m->size ? m->size : 1, sizeof(float));
    if (!m->data) return -1;
    for (int i = 0; i < m->n_tensors; i++) m->tensors[i].data = m->data + m->tensors[i].offset;
    return 0;
}

int nn_model_count(const nn_model *m) { return m ? m->n_tensors : 0; }

const nn_tensor *nn_model_tensor(const nn_model *m, int i)
{
    return (m && i >= 0 && i < m->n_tensors) ? &m->tensors[i] : NULL;
}

const nn_tensor *nn_model_find(const nn_model *m, const char *name)
{
    if (!m || !name) return NULL;
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

float *nn_model_data(const nn_model *m) { return m ? m->data : NULL; }

size_t nn_model_size(const nn_model *m) { return m ? m->size : 0; }

static void shape_str(char *buf, size_t cap, int ndim, const int *shape)
{
    size_t n = 0;
    buf[0] = 0;
    for (int d = 0; d < ndim && n < cap; d++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%d", d ? "x" : "", shape[d]);
}

float *nn_model_bind(const nn_model *m, const char *name, int ndim, const int *shape, char *err,
                     size_t errlen)
{
    const nn_tensor *t = nn_model_find(m, name);
    char want[64], have[64];
    shape_str(want, sizeof want, ndim, shape);
    if (!t || !t->data) {
        nn_seterr(err, errlen, "the model has no tensor '%s' (%s) that this architecture needs; "
                  "it was made for another architecture", name, want);
        return NULL;
    }
    int same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
    if (!same) {
        shape_str(have, sizeof have, t->ndim, t->shape);
        nn_seterr(err, errlen, "the model's tensor '%s' is %s where this architecture needs %s; "
                  "the file does not match its hyper-parameters", name, have, want);
        return NULL;
    }
    return t->data;
}

static struct nn_hparam *find_hparam(const nn_model *m, const char *key)
{
    for (int i = 0; i < m->n_hparams; i++)
        if (!strcmp(m->hparams[i].key, key)) return &m->hparams[i];
    return NULL;
}

static struct nn_hparam *new_hparam(nn_model *m, const char *key)
{
    if (!m || !key || !nn_name_ok(key)) return NULL;
    struct nn_hparam *h = find_hparam(m, key);
    if (h) return h;
    if (grow((void **)&m->hparams, &m->cap_hparams, m->n_hparams + 1, sizeof *h)) return NULL;
    h = &m->hparams[m->n_hparams++];
    memset(h, 0, sizeof *h);
    strcpy(h->key, key);
    return h;
}

int nn_model_set_int(nn_model *m, const char *key, int64_t v)
{
    struct nn_hparam *h = new_hparam(m, key);
    if (!h) return -1;
    h->type = NN_HP_INT;
    h->i = v;
    return 0;
}

int nn_model_set_float(nn_model *m, const char *key, double v)
{
    struct nn_hparam *h = new_hparam(m, key);
    if (!h) return -1;
    h->type = NN_HP_FLOAT;
    h->f = v;
    return 0;
}

int nn_model_get_int(const nn_model *m, const char *key, int64_t *v)
{
    struct nn_hparam *h = m && key ? find_hparam(m, key) : NULL;
    if (!h || h->type != NN_HP_INT) return -1;
    *v = h->i;
    return 0;
}

int nn_model_get_float(const nn_model *m, const char *key, double *v)
{
    struct nn_hparam *h = m && key ? find_hparam(m, key) : NULL;
    if (!h) return -1;
    *v = h->type == NN_HP_INT ? (double)h->i : h->f;
    return 0;
}

int nn_model_set_meta(nn_model *m, const char *key, const char *value)
{
    if (!m || !key || !value || !nn_name_ok(key)) return -1;
    size_t len = strlen(value);
    if (len > NN_META_MAX) return -1;
    char *copy = nn_alloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, value, len + 1);
    for (int i = 0; i < m->n_meta; i++)
        if (!strcmp(m->meta[i].key, key)) {
            nn_free(m->meta[i].value);
            m->meta[i].value = copy;
            return 0;
        }
    if (grow((void **)&m->meta, &m->cap_meta, m->n_meta + 1, sizeof(struct nn_meta))) {
        nn_free(copy);
        return -1;
    }
    struct nn_meta *e = &m->meta[m->n_meta++];
    strcpy(e->key, key);
    e->value = copy;
    return 0;
}

const char *nn_model_meta(const nn_model *m, const char *key)
{
    if (!m || !key) return NULL;
    for (int i = 0; i < m->n_meta; i++)
        if (!strcmp(m->meta[i].key, key)) return m->meta[i].value;
    return NULL;
}

int nn_model_hparam_count(const nn_model *m) { return m ? m->n_hparams : 0; }
int nn_model_meta_count(const nn_model *m) { return m ? m->n_meta : 0; }

const char *nn_model_hparam_key(const nn_model *m, int i)
{
    return (m && i >= 0 && i < m->n_hparams) ? m->hparams[i].key : NULL;
}

const char *nn_model_meta_key(const nn_model *m, int i)
{
    return (m && i >= 0 && i < m->n_meta) ? m->meta[i].key : NULL;
}
