/* mus_model.c: the musician's model files, cache and streaming runner. */
#include "engine/musician/mus_model.h"
#include "engine/musician/mus_corpus.h"
#include "engine/util.h"
#include "nn/nn_mem.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const int mus_head_size[MUS_NHEADS] = {MUS_MONO_VOCAB, MUS_DRUM_UNITS, MUS_COMP_RHYTHM_VOCAB,
                                       MUS_NCHORDS, MUS_MONO_VOCAB};

int mus_head_offset(int head)
{
    int o = 0;
    for (int k = 0; k < head && k < MUS_NHEADS; k++) o += mus_head_size[k];
    return o;
}

nn_seqnet_config mus_model_config(int layers, int hidden)
{
    nn_seqnet_config c;
    memset(&c, 0, sizeof c);
    c.n_embed = MUS_N_IDS;
    for (int e = 0; e < MUS_N_IDS; e++) {
        c.embed_vocab[e] = mus_id_vocab[e];
        c.embed_dim[e] = mus_id_dim[e];
    }
    c.dense_in = MUS_DENSE;
    c.layers = layers;
    c.hidden = hidden;
    c.n_heads = MUS_NHEADS;
    for (int k = 0; k < MUS_NHEADS; k++) {
        c.head_kind[k] = k == MUS_HEAD_DRUMS ? NN_HEAD_SIGMOID : NN_HEAD_SOFTMAX;
        c.head_size[k] = mus_head_size[k];
        c.head_weight[k] = 1.0f;
    }
    return c;
}

static void default_density(mus_model *m)
{
    for (int i = 0; i < MUS_DENSITY_POINTS; i++) m->density_q[i] = 1.5f * i / (MUS_DENSITY_POINTS - 1);
}

mus_model *mus_model_create(int layers, int hidden, uint64_t seed, char *err, size_t errlen)
{
    mus_model *m = calloc(1, sizeof *m);
    if (!m) {
        bm_errf(err, errlen, "out of memory creating the model");
        return NULL;
    }
    m->cfg = mus_model_config(layers, hidden);
    m->nn = nn_seqnet_model_create(&m->cfg, seed, err, errlen);
    if (!m->nn) {
        free(m);
        return NULL;
    }
    default_density(m);
    return m;
}

int mus_model_check(const nn_model *nn, nn_seqnet_config *cfg, char *err, size_t errlen)
{
    const char *rep = nn_model_meta(nn, "representation");
    if (!rep || strcmp(rep, MUS_REPRESENTATION)) {
        bm_errf(err, errlen, "the model was made for %s%s%s, not for this bandmate's musician (%s); "
                "retrain it with 'bandmate train'", rep ? "representation '" : "another program",
                rep ? rep : "", rep ? "'" : "", MUS_REPRESENTATION);
        return -1;
    }
    nn_seqnet_config c;
    if (nn_seqnet_config_from_model(&c, nn, err, errlen) != 0) return -1;
    nn_seqnet_config want = mus_model_config(c.layers, c.hidden);
    int ok = c.n_embed == want.n_embed && c.dense_in == want.dense_in && c.n_heads == want.n_heads;
    for (int e = 0; ok && e < c.n_embed; e++)
        ok = c.embed_vocab[e] == want.embed_vocab[e] && c.embed_dim[e] == want.embed_dim[e];
    for (int k = 0; ok && k < c.n_heads; k++)
        ok = c.head_kind[k] == want.head_kind[k] && c.head_size[k] == want.head_size[k];
    if (!ok) {
        bm_errf(err, errlen, "the model's inputs or heads do not match this bandmate's musician; retrain it "
                "with 'bandmate train'");
        return -1;
    }
    if (cfg) *cfg = c;
    return 0;
}

static int read_density(mus_model *m, char *err, size_t errlen)
{
    default_density(m);
    const char *d = nn_model_meta(m->nn, "density_quantiles");
    if (!d) return 0;
    for (int i = 0; i < MUS_DENSITY_POINTS; i++) {
        char *end;
        float v = strtof(d, &end);
        if (end == d) {
            bm_errf(err, errlen, "the model's density table is damaged; retrain it");
            return -1;
        }
        m->density_q[i] = v;
        d = end;
        while (*d == ',' || *d == ' ') d++;
    }
    return 0;
}

/* The chord tracker from the model's metadata, when it has one. */
static int read_chords(mus_model *m, char *err, size_t errlen)
{
    const char *text = nn_model_meta(m->nn, "chord_tracker");
    if (!text) return 0;
    mus_chords_counts *counts = malloc(sizeof *counts);
    m->chords = malloc(sizeof *m->chords);
    if (!counts || !m->chords) {
        free(counts);
        bm_errf(err, errlen, "out of memory");
        return -1;
    }
    if (mus_chords_counts_parse(counts, text) != 0) {
        free(counts);
        bm_errf(err, errlen, "the model's chord tracker is damaged; fit it again (bandmate train --chords-only)");
        return -1;
    }
    mus_chords_model_build(m->chords, counts, NULL);
    free(counts);
    return 0;
}

int mus_model_fit_chords(mus_model *m, const mus_corpus *c, const int *songs, int n, char *err, size_t errlen)
{
    mus_chords_counts *counts = calloc(1, sizeof *counts);
    mus_chords_model *cm = m->chords ? m->chords : malloc(sizeof *cm);
    char *text = NULL;
    if (counts && cm) {
        for (int i = 0; i < n; i++) mus_chords_count_song(counts, &c->songs[songs[i]]);
        mus_chords_model_build(cm, counts, NULL);
        m->chords = cm;
        text = mus_chords_counts_text(counts);
    }
    int rc = text && nn_model_set_meta(m->nn, "chord_tracker", text) == 0 ? 0 : -1;
    if (rc) bm_errf(err, errlen, "out of memory fitting the chord tracker");
    if (cm != m->chords) free(cm);
    free(text);
    free(counts);
    return rc;
}

mus_model *mus_model_load(const char *path, char *err, size_t errlen)
{
    char why[768];
    nn_model *nn = nn_model_load(path, why, sizeof why);
    if (!nn) {
        bm_errf(err, errlen, "%s", why);
        return NULL;
    }
    mus_model *m = calloc(1, sizeof *m);
    if (!m) {
        nn_model_free(nn);
        bm_errf(err, errlen, "cannot load %s: out of memory", path);
        return NULL;
    }
    m->nn = nn;
    if (mus_model_check(nn, &m->cfg, why, sizeof why) != 0 || read_density(m, why, sizeof why) != 0 ||
        read_chords(m, why, sizeof why) != 0) {
        bm_errf(err, errlen, "%s: %s", path, why);
        mus_model_free(m);
        return NULL;
    }
    snprintf(m->path, sizeof m->path, "%s", path);
    return m;
}

int mus_model_tag(mus_model *m)
{
    char buf[1024];
    int n = 0;
    for (int i = 0; i < MUS_DENSITY_POINTS; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%.5f", i ? "," : "", m->density_q[i]);
    char styles[512];
    int k = 0;
    for (int s = 0; s < MUS_NSTYLES; s++) k += snprintf(styles + k, sizeof styles - (size_t)k, "%s%s", s ? "," : "", mus_style_name(s));
    if (nn_model_set_meta(m->nn, "representation", MUS_REPRESENTATION) ||
        nn_model_set_meta(m->nn, "density_quantiles", buf) || nn_model_set_meta(m->nn, "styles", styles))
        return -1;
    return 0;
}

int mus_model_save(mus_model *m, const char *path, char *err, size_t errlen)
{
    if (mus_model_tag(m) != 0) {
        bm_errf(err, errlen, "out of memory saving the model");
        return -1;
    }
    return nn_model_save(m->nn, path, err, errlen);
}

void mus_model_free(mus_model *m)
{
    if (!m) return;
    nn_model_free(m->nn);
    free(m->chords);
    free(m);
}

/* ---- the process-wide cache ---- */

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static mus_model *cached;

mus_model *mus_model_shared(const char *path, char *err, size_t errlen)
{
    pthread_mutex_lock(&cache_lock);
    if (cached && !strcmp(cached->path, path)) {
        cached->refs++;
        mus_model *m = cached;
        pthread_mutex_unlock(&cache_lock);
        return m;
    }
    mus_model *m = mus_model_load(path, err, errlen);
    if (m) {
        m->refs = 1;
        if (cached && cached->refs == 0) { /* nobody uses the cached one: this file replaces it */
            mus_model_free(cached);
            cached = NULL;
        }
        if (!cached) cached = m;
        else m->refs = -1; /* another file is in use: this one is private to its user */
    }
    pthread_mutex_unlock(&cache_lock);
    return m;
}

void mus_model_release(mus_model *m)
{
    if (!m) return;
    pthread_mutex_lock(&cache_lock);
    if (m->refs < 0) mus_model_free(m);
    else if (m->refs > 0) m->refs--; /* the cached model stays for the next user */
    pthread_mutex_unlock(&cache_lock);
}

float mus_density_quantile(const mus_model *m, float rate)
{
    const float *q = m->density_q;
    if (rate <= q[0]) return 0;
    for (int i = 1; i < MUS_DENSITY_POINTS; i++)
        if (rate <= q[i]) {
            float span = q[i] - q[i - 1];
            float f = span > 1e-9f ? (rate - q[i - 1]) / span : 0.5f;
            return ((float)(i - 1) + f) / (MUS_DENSITY_POINTS - 1);
        }
    return 1;
}

void mus_model_default_path(char *out, size_t cap)
{
    const char *env = getenv("BANDMATE_MODEL");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char cand[4][PATH_MAX + 64];
    int nc = 0;
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        static const char *const up[3] = {"", "/..", "/../.."};
        for (int i = 0; i < 3; i++) snprintf(cand[nc++], sizeof cand[0], "%s%s/models/musician.bmnn", exe, up[i]);
    }
    snprintf(cand[nc++], sizeof cand[0], "models/musician.bmnn");
    for (int i = 0; i < nc; i++)
        if (access(cand[i], R_OK) == 0) {
            snprintf(out, cap, "%s", cand[i]);
            return;
        }
    snprintf(out, cap, "%s", cand[nc > 1 ? 1 : 0]);
}

/* ---- the runner ---- */

struct mus_runner {
    nn_stream *s;
    float *state;
    float *logits;
};

mus_runner *mus_runner_create(const mus_model *m, char *err, size_t errlen)
{
    mus_runner *r = calloc(1, sizeof *r);
    if (!r) {
        bm_errf(err, errlen, "out of memory starting the musician");
        return NULL;
    }
    nn_stream_desc d;
    nn_seqnet_stream_desc(&m->cfg, 1, m->cfg.hidden >= 256 ? NN_STREAM_F16 : 0, &d);
    r->s = nn_stream_create(&d, m->nn, err, errlen);
    if (!r->s) {
        free(r);
        return NULL;
    }
    r->state = nn_alloc(nn_stream_state_size(r->s) * sizeof(float));
    r->logits = nn_alloc((size_t)nn_stream_out_size(r->s) * sizeof(float));
    if (!r->state || !r->logits) {
        mus_runner_free(r);
        bm_errf(err, errlen, "out of memory starting the musician");
        return NULL;
    }
    nn_stream_state_reset(r->s, r->state);
    return r;
}

void mus_runner_free(mus_runner *r)
{
    if (!r) return;
    nn_stream_free(r->s);
    nn_free(r->state);
    nn_free(r->logits);
    free(r);
}

void mus_runner_reset(mus_runner *r) { nn_stream_state_reset(r->s, r->state); }

const float *mus_runner_step(mus_runner *r, const int *ids, const float *dense)
{
    float *states[1] = {r->state};
    nn_stream_step(r->s, 1, states, ids, dense, r->logits);
    return r->logits;
}

float *mus_runner_state(mus_runner *r) { return r->state; }

size_t mus_runner_state_size(const mus_runner *r) { return nn_stream_state_size(r->s); }
