/* nn_seqnet.c: embeddings + LSTM stack + fused heads: parameters, forward, loss, backward. */
#include "nn/nn_seqnet.h"
#include "nn/nn_err.h"
#include "nn/nn_layers.h"
#include "nn/nn_loss.h"
#include "nn/nn_mem.h"
#include "nn/nn_rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct nn_seqnet {
    nn_model *m;
    nn_seqnet_config c;
    int T, B, I0, heads_out, head_off[NN_SEQNET_MAX_HEADS], carry;
    const nn_tensor *emb[NN_SEQNET_MAX_EMBED], *w_ih[NN_SEQNET_MAX_LAYERS],
        *w_hh[NN_SEQNET_MAX_LAYERS], *bias[NN_SEQNET_MAX_LAYERS], *hw, *hb;
    float *mem;
    float *x0, *dx0, *h[NN_SEQNET_MAX_LAYERS], *acts[NN_SEQNET_MAX_LAYERS], *dh, *dh2;
    float *sh[NN_SEQNET_MAX_LAYERS], *sc[NN_SEQNET_MAX_LAYERS], *logits, *dlogits, *hbuf, *dhbuf;
};

static int check_config(const nn_seqnet_config *c, char *err, size_t errlen)
{
    if (c->n_embed < 0 || c->n_embed > NN_SEQNET_MAX_EMBED || c->dense_in < 0 ||
        c->n_embed + c->dense_in == 0)
        return nn_seterr(err, errlen, "the sequence model needs 1 to %d embeddings and/or dense "
                         "inputs", NN_SEQNET_MAX_EMBED);
    for (int e = 0; e < c->n_embed; e++)
        if (c->embed_vocab[e] < 1 || c->embed_dim[e] < 1)
            return nn_seterr(err, errlen, "embedding %d has a vocabulary or size below 1", e);
    if (c->layers < 1 || c->layers > NN_SEQNET_MAX_LAYERS || c->hidden < 1 || c->hidden > 8192)
        return nn_seterr(err, errlen, "the sequence model needs 1 to %d LSTM layers of 1 to 8192 "
                         "units", NN_SEQNET_MAX_LAYERS);
    if (c->n_heads < 1 || c->n_heads > NN_SEQNET_MAX_HEADS)
        return nn_seterr(err, errlen, "the sequence model needs 1 to %d heads", NN_SEQNET_MAX_HEADS);
    for (int k = 0; k < c->n_heads; k++)
        if (c->head_size[k] < 1 ||
            (c->head_kind[k] != NN_HEAD_SOFTMAX && c->head_kind[k] != NN_HEAD_SIGMOID))
            return nn_seterr(err, errlen, "head %d has an unknown kind or a size below 1", k);
    return 0;
}

static int input_size(const nn_seqnet_config *c)
{
    int n = c->dense_in;
    for (int e = 0; e < c->n_embed; e++) n += c->embed_dim[e];
    return n;
}

static int heads_out(const nn_seqnet_config *c)
{
    int n = 0;
    for (int k = 0; k < c->n_heads; k++) n += c->head_size[k];
    return n;
}

nn_model *nn_seqnet_model_create(const nn_seqnet_config *c, uint64_t seed, char *err,
                                 size_t errlen)
{
    if (check_config(c, err, errlen)) return NULL;
    nn_model *m = nn_model_create();
    if (!m) goto oom;
    char name[64], key[64];
    int H = c->hidden, rc = 0;
    for (int e = 0; e < c->n_embed; e++) {
        snprintf(name, sizeof name, "embed%d", e);
        rc |= nn_model_add(m, name, 2, (int[]){c->embed_vocab[e], c->embed_dim[e]}) < 0;
    }
    for (int l = 0; l < c->layers; l++) {
        int I = l ? H : input_size(c);
        snprintf(name, sizeof name, "lstm%d.w_ih", l);
        rc |= nn_model_add(m, name, 2, (int[]){4 * H, I}) < 0;
        snprintf(name, sizeof name, "lstm%d.w_hh", l);
        rc |= nn_model_add(m, name, 2, (int[]){4 * H, H}) < 0;
        snprintf(name, sizeof name, "lstm%d.b", l);
        rc |= nn_model_add(m, name, 1, (int[]){4 * H}) < 0;
    }
    rc |= nn_model_add(m, "heads.w", 2, (int[]){heads_out(c), H}) < 0;
    rc |= nn_model_add(m, "heads.b", 1, (int[]){heads_out(c)}) < 0;
    if (rc || nn_model_alloc(m)) goto oom;
    rc |= nn_model_set_meta(m, "architecture", "seqnet");
    rc |= nn_model_set_int(m, "seqnet.embeds", c->n_embed);
    for (int e = 0; e < c->n_embed; e++) {
        snprintf(key, sizeof key, "seqnet.embed%d.vocab", e);
        rc |= nn_model_set_int(m, key, c->embed_vocab[e]);
        snprintf(key, sizeof key, "seqnet.embed%d.dim", e);
        rc |= nn_model_set_int(m, key, c->embed_dim[e]);
    }
    rc |= nn_model_set_int(m, "seqnet.dense_in", c->dense_in);
    rc |= nn_model_set_int(m, "seqnet.layers", c->layers);
    rc |= nn_model_set_int(m, "seqnet.hidden", c->hidden);
    rc |= nn_model_set_int(m, "seqnet.heads", c->n_heads);
    for (int k = 0; k < c->n_heads; k++) {
        snprintf(key, sizeof key, "seqnet.head%d.kind", k);
        rc |= nn_model_set_int(m, key, c->head_kind[k]);
        snprintf(key, sizeof key, "seqnet.head%d.size", k);
        rc |= nn_model_set_int(m, key, c->head_size[k]);
        snprintf(key, sizeof key, "seqnet.head%d.weight", k);
        rc |= nn_model_set_float(m, key, c->head_weight[k] > 0 ? c->head_weight[k] : 1.0);
    }
    if (rc) goto oom;
    nn_rng r;
    nn_rng_seed(&r, seed);
    for (int i = 0; i < nn_model_count(m); i++) {
        const nn_tensor *t = nn_model_tensor(m, i);
        if (!strncmp(t->name, "embed", 5)) nn_init_normal(&r, t->data, t->size, 1.0f);
        else if (!strncmp(t->name, "lstm", 4)) {
            float k = 1.0f / sqrtf((float)H);
            nn_init_uniform(&r, t->data, t->size, -k, k);
            if (strstr(t->name, ".b")) /* PyTorch's two biases, summed */
                for (size_t j = 0; j < t->size; j++) t->data[j] += -k + 2 * k * nn_rng_uniform(&r);
        } else {
            float k = 1.0f / sqrtf((float)H);
            nn_init_uniform(&r, t->data, t->size, -k, k);
        }
    }
    return m;
oom:
    nn_model_free(m);
    nn_seterr(err, errlen, "cannot create the sequence model: out of memory");
    return NULL;
}

static int get_i(const nn_model *m, const char *key, int *out, char *err, size_t errlen)
{
    int64_t v;
    if (nn_model_get_int(m, key, &v) || v < 0 || v > (1 << 30))
        return nn_seterr(err, errlen, "the model lacks the hyper-parameter '%s' (it is not a "
                         "sequence model, or it is damaged)", key);
    *out = (int)v;
    return 0;
}

int nn_seqnet_config_from_model(nn_seqnet_config *c, const nn_model *m, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    char key[64];
    if (get_i(m, "seqnet.embeds", &c->n_embed, err, errlen)) return -1;
    if (c->n_embed > NN_SEQNET_MAX_EMBED) return check_config(c, err, errlen);
    for (int e = 0; e < c->n_embed; e++) {
        snprintf(key, sizeof key, "seqnet.embed%d.vocab", e);
        if (get_i(m, key, &c->embed_vocab[e], err, errlen)) return -1;
        snprintf(key, sizeof key, "seqnet.embed%d.dim", e);
        if (get_i(m, key, &c->embed_dim[e], err, errlen)) return -1;
    }
    if (get_i(m, "seqnet.dense_in", &c->dense_in, err, errlen) ||
        get_i(m, "seqnet.layers", &c->layers, err, errlen) ||
        get_i(m, "seqnet.hidden", &c->hidden, err, errlen) ||
        get_i(m, "seqnet.heads", &c->n_heads, err, errlen))
        return -1;
    if (c->n_heads > NN_SEQNET_MAX_HEADS) return check_config(c, err, errlen);
    for (int k = 0; k < c->n_heads; k++) {
        int kind = 0;
        snprintf(key, sizeof key, "seqnet.head%d.kind", k);
        if (get_i(m, key, &kind, err, errlen)) return -1;
        c->head_kind[k] = (nn_head_kind)kind;
        snprintf(key, sizeof key, "seqnet.head%d.size", k);
        if (get_i(m, key, &c->head_size[k], err, errlen)) return -1;
        double w = 1;
        snprintf(key, sizeof key, "seqnet.head%d.weight", k);
        nn_model_get_float(m, key, &w);
        c->head_weight[k] = (float)w;
    }
    return check_config(c, err, errlen);
}

void nn_seqnet_free(nn_seqnet *s)
{
    if (!s) return;
    nn_free(s->mem);
    nn_free(s);
}

static const nn_tensor *bind(const nn_model *m, const char *name, int ndim, const int *shape,
                             char *err, size_t errlen)
{
    if (!nn_model_bind(m, name, ndim, shape, err, errlen)) return NULL;
    return nn_model_find(m, name);
}

nn_seqnet *nn_seqnet_create(nn_model *m, int T, int B, char *err, size_t errlen)
{
    nn_seqnet_config c;
    if (nn_seqnet_config_from_model(&c, m, err, errlen)) return NULL;
    if (T < 1 || B < 1 || (size_t)T * B > (1u << 24)) {
        nn_seterr(err, errlen, "the batch of %d x %d steps is out of range", T, B);
        return NULL;
    }
    nn_seqnet *s = nn_alloc(sizeof *s);
    if (!s) goto oom;
    s->m = m;
    s->c = c;
    s->T = T;
    s->B = B;
    s->I0 = input_size(&c);
    s->heads_out = heads_out(&c);
    int H = c.hidden;
    char name[64];
    for (int e = 0; e < c.n_embed; e++) {
        snprintf(name, sizeof name, "embed%d", e);
        if (!(s->emb[e] = bind(m, name, 2, (int[]){c.embed_vocab[e], c.embed_dim[e]}, err, errlen)))
            goto fail;
    }
    for (int l = 0; l < c.layers; l++) {
        snprintf(name, sizeof name, "lstm%d.w_ih", l);
        if (!(s->w_ih[l] = bind(m, name, 2, (int[]){4 * H, l ? H : s->I0}, err, errlen))) goto fail;
        snprintf(name, sizeof name, "lstm%d.w_hh", l);
        if (!(s->w_hh[l] = bind(m, name, 2, (int[]){4 * H, H}, err, errlen))) goto fail;
        snprintf(name, sizeof name, "lstm%d.b", l);
        if (!(s->bias[l] = bind(m, name, 1, (int[]){4 * H}, err, errlen))) goto fail;
    }
    if (!(s->hw = bind(m, "heads.w", 2, (int[]){s->heads_out, H}, err, errlen))) goto fail;
    if (!(s->hb = bind(m, "heads.b", 1, (int[]){s->heads_out}, err, errlen))) goto fail;
    int off = 0;
    for (int k = 0; k < c.n_heads; k++) {
        s->head_off[k] = off;
        off += c.head_size[k];
    }
    size_t TB = (size_t)T * B, BH = (size_t)B * H, maxk = 0;
    for (int k = 0; k < c.n_heads; k++)
        if ((size_t)c.head_size[k] > maxk) maxk = (size_t)c.head_size[k];
    size_t need = 2 * TB * s->I0 + 2 * TB * H + 2 * TB * s->heads_out + 2 * TB * maxk;
    for (int l = 0; l < c.layers; l++) need += TB * H + nn_lstm_acts_size(T, B, H) + 2 * BH;
    s->mem = nn_alloc_array(need, sizeof(float));
    if (!s->mem) goto oom;
    float *p = s->mem;
    s->x0 = p, p += TB * s->I0;
    s->dx0 = p, p += TB * s->I0;
    s->dh = p, p += TB * H;
    s->dh2 = p, p += TB * H;
    s->logits = p, p += TB * s->heads_out;
    s->dlogits = p, p += TB * s->heads_out;
    s->hbuf = p, p += TB * maxk;
    s->dhbuf = p, p += TB * maxk;
    for (int l = 0; l < c.layers; l++) {
        s->h[l] = p, p += TB * H;
        s->acts[l] = p, p += nn_lstm_acts_size(T, B, H);
        s->sh[l] = p, p += BH;
        s->sc[l] = p, p += BH;
    }
    return s;
oom:
    nn_seterr(err, errlen, "cannot create the trainer: out of memory");
fail:
    nn_seqnet_free(s);
    return NULL;
}

void nn_seqnet_set_carry(nn_seqnet *s, int on) { s->carry = on; }

void nn_seqnet_reset_state(nn_seqnet *s)
{
    for (int l = 0; l < s->c.layers; l++) {
        memset(s->sh[l], 0, sizeof(float) * (size_t)s->B * s->c.hidden);
        memset(s->sc[l], 0, sizeof(float) * (size_t)s->B * s->c.hidden);
    }
}

const float *nn_seqnet_logits(const nn_seqnet *s, int *width)
{
    if (width) *width = s->heads_out;
    return s->logits;
}

/* Copies head k's columns out of the fused [n, heads_out] matrix (or back, when back is set). */
static void columns(float *fused, float *part, int n, int total, int off, int k, int back)
{
    for (int i = 0; i < n; i++) {
        float *f = fused + (size_t)i * total + off, *q = part + (size_t)i * k;
        if (back) memcpy(f, q, sizeof(float) * (size_t)k);
        else memcpy(q, f, sizeof(float) * (size_t)k);
    }
}

float nn_seqnet_loss(nn_seqnet *s, const nn_seqnet_batch *b, float *grads, float *head_loss)
{
    const nn_seqnet_config *c = &s->c;
    int T = b->T, B = b->B, H = c->hidden, I0 = s->I0, TB = T * B, HO = s->heads_out;
    if (T > s->T || B > s->B || T < 1 || B < 1) return NAN;
    if (B != s->B && s->carry) return NAN; /* carried state is per batch row */
    /* inputs */
    int col = 0;
    for (int e = 0; e < c->n_embed; e++) {
        const int *ids = b->ids;
        for (int r = 0; r < TB; r++) {
            int id = ids[(size_t)r * c->n_embed + e];
            float *dst = s->x0 + (size_t)r * I0 + col;
            const nn_tensor *t = s->emb[e];
            if (id < 0 || id >= t->shape[0]) memset(dst, 0, sizeof(float) * (size_t)t->shape[1]);
            else memcpy(dst, t->data + (size_t)id * t->shape[1], sizeof(float) * (size_t)t->shape[1]);
        }
        col += c->embed_dim[e];
    }
    for (int r = 0; c->dense_in && r < TB; r++)
        memcpy(s->x0 + (size_t)r * I0 + col, b->dense + (size_t)r * c->dense_in,
               sizeof(float) * (size_t)c->dense_in);
    /* LSTM stack */
    for (int l = 0; l < c->layers; l++) {
        const float *x = l ? s->h[l - 1] : s->x0;
        float *h0 = s->carry ? s->sh[l] : NULL, *c0 = s->carry ? s->sc[l] : NULL;
        nn_lstm_forward(s->h[l], s->acts[l], s->sh[l], s->sc[l], x, h0, c0, b->reset,
                        s->w_ih[l]->data, s->w_hh[l]->data, s->bias[l]->data, T, B, l ? H : I0, H);
    }
    const float *top = s->h[c->layers - 1];
    nn_dense_forward(s->logits, top, s->hw->data, s->hb->data, TB, H, HO);
    /* losses */
    float total = 0;
    for (int k = 0; k < c->n_heads; k++) {
        int K = c->head_size[k];
        float w = c->head_weight[k] > 0 ? c->head_weight[k] : 1.0f, l;
        columns(s->logits, s->hbuf, TB, HO, s->head_off[k], K, 0);
        float *d = grads ? s->dhbuf : NULL;
        if (c->head_kind[k] == NN_HEAD_SOFTMAX)
            l = nn_softmax_xent(d, s->hbuf, b->targets[k], b->mask, TB, K, w);
        else
            l = nn_sigmoid_bce(d, s->hbuf, b->multi[k], b->mask, TB, K, w);
        if (d) columns(s->dlogits, s->dhbuf, TB, HO, s->head_off[k], K, 1);
        if (head_loss) head_loss[k] = l;
        total += w * l;
    }
    if (!grads) return total;
    /* backward */
    float *g = grads;
    memset(s->dh, 0, sizeof(float) * (size_t)TB * H);
    nn_dense_backward(s->dh, g + s->hw->offset, g + s->hb->offset, s->dlogits, top, s->hw->data,
                      TB, H, HO);
    for (int l = c->layers - 1; l >= 0; l--) {
        const float *x = l ? s->h[l - 1] : s->x0;
        float *dx = l ? s->dh2 : (c->n_embed ? s->dx0 : NULL);
        if (dx) memset(dx, 0, sizeof(float) * (size_t)TB * (l ? H : I0));
        nn_lstm_backward(dx, g + s->w_ih[l]->offset, g + s->w_hh[l]->offset, g + s->bias[l]->offset,
                         NULL, NULL, s->dh, s->acts[l], x, b->reset, s->w_ih[l]->data,
                         s->w_hh[l]->data, T, B, l ? H : I0, H);
        if (l) {
            float *t = s->dh;
            s->dh = s->dh2;
            s->dh2 = t;
        }
    }
    col = 0;
    for (int e = 0; e < c->n_embed; e++) {
        const nn_tensor *t = s->emb[e];
        /* ids of embedding e sit at stride n_embed; gather them one row at a time */
        for (int r = 0; r < TB; r++) {
            int id = b->ids[(size_t)r * c->n_embed + e];
            if (id < 0 || id >= t->shape[0]) continue;
            float *d = g + t->offset + (size_t)id * t->shape[1];
            const float *src = s->dx0 + (size_t)r * I0 + col;
            for (int j = 0; j < t->shape[1]; j++) d[j] += src[j];
        }
        col += c->embed_dim[e];
    }
    return total;
}

void nn_seqnet_stream_desc(const nn_seqnet_config *c, int max_batch, int flags, nn_stream_desc *d)
{
    memset(d, 0, sizeof *d);
    d->n_embed = c->n_embed;
    for (int e = 0; e < c->n_embed; e++) snprintf(d->embed[e], sizeof d->embed[e], "embed%d", e);
    d->dense_in = c->dense_in;
    d->n_layers = c->layers + 1;
    for (int l = 0; l < c->layers; l++) {
        d->layer[l].kind = NN_STREAM_LSTM;
        d->layer[l].units = c->hidden;
        snprintf(d->layer[l].prefix, sizeof d->layer[l].prefix, "lstm%d", l);
    }
    nn_stream_layer *hl = &d->layer[c->layers];
    hl->kind = NN_STREAM_DENSE;
    hl->units = heads_out(c);
    hl->act = NN_ACT_NONE;
    snprintf(hl->prefix, sizeof hl->prefix, "heads");
    d->max_batch = max_batch;
    d->flags = flags;
}
