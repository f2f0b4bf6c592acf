/* nn_stream.c: building a streaming runner: weights packed into panels for the kernels (per block
 * of 8 hidden units, each input column holds that block's rows of all gates, so one pass over the
 * panel yields the gates of 8 units in registers), embeddings folded into layer 0, and the step. */
#include "nn/nn_stream.h"
#include "nn/nn_err.h"
#include "nn/nn_kern.h"
#include "nn/nn_mem.h"

#include <stdio.h>
#include <string.h>

struct nn_stream {
    nn_stream_desc d;
    const nn_kern *k;
    nn_pack pk[NN_STREAM_MAX_LAYERS];
    size_t h_off[NN_STREAM_MAX_LAYERS], c_off[NN_STREAM_MAX_LAYERS];
    size_t state_size;
    int out_units, rows0, max_w;
    int vocab[NN_STREAM_MAX_EMBED];
    float *tab[NN_STREAM_MAX_EMBED];
    void *wmem;
    float *fmem;                 /* biases, tables, scratch */
    float **pre, **bufa, **bufb; /* per batch slot */
    const float **src, **hs;
    float **cs, **outs;
    size_t weight_bytes;
    double flops;
};

static int round_up(int v, int m) { return (v + m - 1) / m * m; }

static int gates_of(int kind) { return kind == NN_STREAM_LSTM ? 4 : kind == NN_STREAM_GRU ? 3 : 1; }

/* Packed row of torch row (gate g, unit u) for a layer kind. */
static size_t packed_row(int kind, int g, int u)
{
    if (kind == NN_STREAM_DENSE) return (size_t)u;
    int G = gates_of(kind);
    return (size_t)(u / 8) * G * 8 + (size_t)g * 8 + (size_t)(u % 8);
}

/* Element index in the panels of (packed row pr, packed column c) for a layer with total_cols. */
static size_t panel_index(int kind, size_t pr, int c, int total_cols)
{
    size_t width = kind == NN_STREAM_DENSE ? 32 : (size_t)gates_of(kind) * 8;
    size_t blk = pr / width, lane = pr % width;
    return blk * width * (size_t)total_cols + (size_t)c * width + lane;
}

void nn_stream_free(nn_stream *s)
{
    if (!s) return;
    nn_free(s->wmem);
    nn_free(s->fmem);
    nn_free(s->pre);
    nn_free(s);
}

nn_stream *nn_stream_create(const nn_stream_desc *desc, const nn_model *m, char *err,
                            size_t errlen)
{
    const nn_stream_desc *d = desc;
    if (d->n_layers < 1 || d->n_layers > NN_STREAM_MAX_LAYERS || d->n_embed < 0 ||
        d->n_embed > NN_STREAM_MAX_EMBED || d->dense_in < 0 || d->max_batch < 1 ||
        d->max_batch > 4096 || (d->n_embed == 0 && d->dense_in == 0)) {
        nn_seterr(err, errlen, "the streaming description is invalid (layers, inputs or batch "
                  "size out of range)");
        return NULL;
    }
    nn_stream *s = nn_alloc(sizeof *s);
    if (!s) goto oom;
    s->d = *d;
    s->k = ((d->flags & NN_STREAM_SCALAR) || !nn_cpu_has_avx2()) ? &nn_kern_scalar : &nn_kern_avx2;
    int f16 = (d->flags & NN_STREAM_F16) != 0;
    size_t esize = f16 ? 2 : 4;

    /* Shapes, panel sizes and the float area's size. */
    int emb_dim[NN_STREAM_MAX_EMBED], emb_total = 0;
    const float *emb[NN_STREAM_MAX_EMBED];
    for (int e = 0; e < d->n_embed; e++) {
        const nn_tensor *t = nn_model_find(m, d->embed[e]);
        if (!t || t->ndim != 2) {
            nn_seterr(err, errlen, "the model has no 2-D embedding table '%s'", d->embed[e]);
            goto fail;
        }
        s->vocab[e] = t->shape[0];
        emb_dim[e] = t->shape[1];
        emb_total += emb_dim[e];
        emb[e] = t->data;
    }
    size_t wbytes = 0, floats = 0;
    int prev_w = 0, prev_units = 0;
    size_t panel_off[NN_STREAM_MAX_LAYERS];
    for (int l = 0; l < d->n_layers; l++) {
        const nn_stream_layer *L = &d->layer[l];
        nn_pack *p = &s->pk[l];
        if (L->units < 1 || L->units > 65536 ||
            (L->kind != NN_STREAM_DENSE && L->kind != NN_STREAM_LSTM && L->kind != NN_STREAM_GRU)) {
            nn_seterr(err, errlen, "streaming layer %d has an unknown kind or a bad size", l);
            goto fail;
        }
        p->kind = L->kind == NN_STREAM_LSTM ? NN_PK_LSTM : L->kind == NN_STREAM_GRU ? NN_PK_GRU
                                                                                   : NN_PK_DENSE;
        p->act = L->act;
        p->units = L->units;
        p->up = round_up(L->units, L->kind == NN_STREAM_DENSE ? 32 : 8);
        p->in = l == 0 ? emb_total + d->dense_in : prev_units;
        p->in_cols = l == 0 ? d->dense_in : prev_w;
        p->f16 = f16;
        int G = gates_of(L->kind);
        int total_cols = p->in_cols + (L->kind == NN_STREAM_DENSE ? 0 : p->up);
        size_t rows = (size_t)G * p->up;
        panel_off[l] = wbytes;
        wbytes += ((rows * (size_t)total_cols * esize) + 63) & ~(size_t)63;
        floats += rows + (size_t)p->up; /* bias, bias_hn */
        if (L->kind != NN_STREAM_DENSE) {
            s->h_off[l] = s->state_size;
            s->state_size += (size_t)p->up;
            if (L->kind == NN_STREAM_LSTM) {
                s->c_off[l] = s->state_size;
                s->state_size += (size_t)p->up;
            }
        }
        s->flops += 2.0 * G * L->units * (double)(p->in + (L->kind == NN_STREAM_DENSE ? 0 : L->units));
        prev_w = p->up;
        prev_units = L->units;
        if (p->up > s->max_w) s->max_w = p->up;
    }
    s->out_units = prev_units;
    s->rows0 = gates_of(d->layer[0].kind) * s->pk[0].up;
    for (int e = 0; e < d->n_embed; e++) floats += (size_t)s->vocab[e] * s->rows0;
    size_t B = (size_t)d->max_batch;
    size_t maxw = (size_t)round_up(s->max_w, 32);
    floats += B * ((size_t)round_up(s->rows0, 8) + 2 * maxw);
    s->weight_bytes = wbytes;
    s->wmem = nn_alloc(wbytes);
    s->fmem = nn_alloc_array(floats, sizeof(float));
    s->pre = nn_alloc_array(B * 8, sizeof(void *));
    if (!s->wmem || !s->fmem || !s->pre) goto oom;
    s->bufa = s->pre + B;
    s->bufb = s->bufa + B;
    s->src = (const float **)(s->bufb + B);
    s->hs = (const float **)(s->bufb + 2 * B);
    s->cs = s->bufb + 3 * B;
    s->outs = s->bufb + 4 * B;

    /* Pack each layer. */
    float *fp = s->fmem;
    char why[256];
    for (int l = 0; l < d->n_layers; l++) {
        const nn_stream_layer *L = &d->layer[l];
        nn_pack *p = &s->pk[l];
        int G = gates_of(L->kind), H = L->units, I = p->in;
        int total_cols = p->in_cols + (L->kind == NN_STREAM_DENSE ? 0 : p->up);
        char name[96];
        const float *wi, *wh = NULL, *bi, *bh = NULL;
        int shp[2];
        shp[0] = G * H;
        shp[1] = I;
        snprintf(name, sizeof name, L->kind == NN_STREAM_DENSE ? "%s.w" : "%s.w_ih", L->prefix);
        if (!(wi = nn_model_bind(m, name, 2, shp, why, sizeof why))) goto bad_tensor;
        if (L->kind != NN_STREAM_DENSE) {
            shp[1] = H;
            snprintf(name, sizeof name, "%s.w_hh", L->prefix);
            if (!(wh = nn_model_bind(m, name, 2, shp, why, sizeof why))) goto bad_tensor;
        }
        snprintf(name, sizeof name, L->kind == NN_STREAM_GRU ? "%s.b_ih" : "%s.b", L->prefix);
        if (!(bi = nn_model_bind(m, name, 1, shp, why, sizeof why))) goto bad_tensor;
        if (L->kind == NN_STREAM_GRU) {
            snprintf(name, sizeof name, "%s.b_hh", L->prefix);
            if (!(bh = nn_model_bind(m, name, 1, shp, why, sizeof why))) goto bad_tensor;
        }
        uint8_t *wbase = (uint8_t *)s->wmem + panel_off[l];
        int xoff = l == 0 ? emb_total : 0;
        float *bias = fp;
        fp += (size_t)G * p->up;
        float *bias_hn = fp;
        fp += p->up;
        for (int g = 0; g < G; g++)
            for (int u = 0; u < H; u++) {
                size_t pr = packed_row(L->kind, g, u), row = (size_t)g * H + u;
                for (int c = 0; c < total_cols; c++) {
                    float v = 0;
                    if (c < p->in_cols) {
                        if (c < (l == 0 ? d->dense_in : p->in)) v = wi[row * I + xoff + c];
                    } else if (c - p->in_cols < H) {
                        v = wh[row * H + (c - p->in_cols)];
                    }
                    size_t idx = panel_index(L->kind, pr, c, total_cols);
                    if (f16) ((uint16_t *)wbase)[idx] = nn_f32_to_f16(v);
                    else ((float *)wbase)[idx] = v;
                }
                bias[pr] = bi[row] + (L->kind == NN_STREAM_GRU && g < 2 ? bh[row] : 0);
                if (L->kind == NN_STREAM_GRU && g == 2) bias_hn[u] = bh[row];
            }
        p->w = wbase;
        p->bias = bias;
        p->bias_hn = bias_hn;
        if (l == 0) {
            int off = 0;
            for (int e = 0; e < d->n_embed; e++) {
                s->tab[e] = fp;
                fp += (size_t)s->vocab[e] * s->rows0;
                for (int v = 0; v < s->vocab[e]; v++) {
                    const float *ev = emb[e] + (size_t)v * emb_dim[e];
                    float *tv = s->tab[e] + (size_t)v * s->rows0;
                    for (int g = 0; g < G; g++)
                        for (int u = 0; u < H; u++) {
                            const float *wr = wi + ((size_t)g * H + u) * I + off;
                            double acc = 0;
                            for (int j = 0; j < emb_dim[e]; j++) acc += (double)wr[j] * ev[j];
                            tv[packed_row(L->kind, g, u)] = (float)acc;
                        }
                }
                off += emb_dim[e];
            }
        }
    }
    for (size_t b = 0; b < B; b++) {
        s->pre[b] = fp;
        fp += round_up(s->rows0, 8);
        s->bufa[b] = fp;
        fp += maxw;
        s->bufb[b] = fp;
        fp += maxw;
    }
    return s;

bad_tensor:
    nn_seterr(err, errlen, "%s", why);
    goto fail;
oom:
    nn_seterr(err, errlen, "cannot set up streaming: out of memory");
fail:
    nn_stream_free(s);
    return NULL;
}

size_t nn_stream_state_size(const nn_stream *s) { return s->state_size ? s->state_size : 1; }

int nn_stream_out_size(const nn_stream *s) { return s->out_units; }

const char *nn_stream_kernel(const nn_stream *s) { return s->k->name; }

size_t nn_stream_weight_bytes(const nn_stream *s) { return s->weight_bytes; }

double nn_stream_flops(const nn_stream *s) { return s->flops; }

void nn_stream_state_reset(const nn_stream *s, float *state)
{
    memset(state, 0, sizeof(float) * nn_stream_state_size(s));
}

void nn_stream_step(nn_stream *s, int n, float *const *states, const int *ids, const float *x,
                    float *y)
{
    const nn_stream_desc *d = &s->d;
    if (n > d->max_batch) n = d->max_batch;
    const float *const *pre = NULL;
    if (d->n_embed) {
        for (int k = 0; k < n; k++) {
            float *p = s->pre[k];
            memcpy(p, s->pk[0].bias, sizeof(float) * (size_t)s->rows0);
            for (int e = 0; e < d->n_embed; e++) {
                int id = ids[k * d->n_embed + e];
                if (id < 0 || id >= s->vocab[e]) continue;
                const float *t = s->tab[e] + (size_t)id * s->rows0;
                for (int r = 0; r < s->rows0; r++) p[r] += t[r];
            }
        }
        pre = (const float *const *)s->pre;
    }
    float **in = s->bufa, **out = s->bufb;
    for (int l = 0; l < d->n_layers; l++) {
        const nn_pack *p = &s->pk[l];
        for (int k = 0; k < n; k++) {
            s->src[k] = l > 0 ? in[k] : x ? x + (size_t)k * d->dense_in : NULL;
            s->hs[k] = states[k] + s->h_off[l];
            s->cs[k] = states[k] + s->c_off[l];
            s->outs[k] = out[k];
        }
        s->k->stream_layer(p, n, s->src, l == 0 ? pre : NULL, s->hs, s->cs, s->outs);
        if (p->kind != NN_PK_DENSE)
            for (int k = 0; k < n; k++)
                memcpy(states[k] + s->h_off[l], out[k], sizeof(float) * (size_t)p->up);
        float **t = in;
        in = out;
        out = t;
    }
    for (int k = 0; k < n; k++)
        memcpy(y + (size_t)k * s->out_units, in[k], sizeof(float) * (size_t)s->out_units);
}
