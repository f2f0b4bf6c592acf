/* mus_ppm.c: PPM with Witten-Bell blending, on hashed contexts. */
#include "engine/musician/mus_ppm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    uint64_t key;       /* 0: empty */
    uint32_t a, b;      /* symbol entries: a = count; context entries: a = total, b = distinct */
} slot;

typedef struct table {
    slot *s;
    size_t cap, n;
} table;

struct mus_ppm {
    int head, max_order;
    table t;
    double bit_on[64];  /* drums: how often each unit is on (the base distribution) */
    double bit_steps;
    long contexts;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return h;
}

static int table_grow(table *t)
{
    size_t cap = t->cap ? t->cap * 2 : (1u << 20);
    slot *s = calloc(cap, sizeof *s);
    if (!s) return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->s[i].key) continue;
        size_t j = t->s[i].key & (cap - 1);
        while (s[j].key) j = (j + 1) & (cap - 1);
        s[j] = t->s[i];
    }
    free(t->s);
    t->s = s;
    t->cap = cap;
    return 0;
}

static slot *table_get(table *t, uint64_t key, int create)
{
    if (!key) key = 1;
    if (create && (t->n + 1) * 10 > t->cap * 7 && table_grow(t) != 0) return NULL;
    if (!t->cap) return NULL;
    size_t j = key & (t->cap - 1);
    while (t->s[j].key) {
        if (t->s[j].key == key) return &t->s[j];
        j = (j + 1) & (t->cap - 1);
    }
    if (!create) return NULL;
    t->s[j].key = key;
    t->n++;
    return &t->s[j];
}

static const slot *table_find(const table *t, uint64_t key)
{
    return table_get((table *)t, key, 0);
}

mus_ppm *mus_ppm_create(int head, int max_order)
{
    mus_ppm *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->head = head;
    p->max_order = max_order < 0 ? 0 : max_order > MUS_PPM_MAX_ORDER ? MUS_PPM_MAX_ORDER : max_order;
    return p;
}

void mus_ppm_free(mus_ppm *p)
{
    if (!p) return;
    free(p->t.s);
    free(p);
}

long mus_ppm_contexts(const mus_ppm *p) { return p->contexts; }

uint64_t mus_ppm_symbol(int head, const mus_frame *f)
{
    switch (head) {
    case MUS_PPM_BASS: return f->bass;
    case MUS_PPM_LEAD: return f->lead;
    case MUS_PPM_DRUMS: return f->drums;
    default:
        if (f->comp < MUS_COMP_SOFT) return f->comp;
        return 2 + (uint64_t)(f->comp - MUS_COMP_SOFT) * MUS_NCHORDS + f->chord;
    }
}

int mus_ppm_has_part(int head, const mus_song *s)
{
    static const int part[MUS_PPM_NHEADS] = {MUS_BASS, MUS_DRUMS, MUS_COMP, MUS_LEAD};
    return s->present >> part[head] & 1;
}

#define START_SYMBOL 0xFFFFFFFFFFFFull

/* The context keys of orders 0..max at step t. */
static void context_keys(const mus_ppm *p, const mus_song *s, int t, uint64_t *keys)
{
    int bar = s->beats_per_bar * MUS_STEPS_PER_BEAT;
    uint64_t h = mix(mix(0x5150 + (uint64_t)p->head, 0xC0), (uint64_t)mus_position_id(s->beats_per_bar, t % bar));
    keys[0] = mix(h, 0);
    for (int k = 1; k <= p->max_order; k++) {
        uint64_t sym = t - k >= 0 ? mus_ppm_symbol(p->head, &s->frame[t - k]) : START_SYMBOL;
        h = mix(h, sym + 17);
        keys[k] = mix(h, (uint64_t)k);
    }
}

static uint64_t symbol_key(uint64_t ctx, uint64_t sym) { return mix(ctx ^ 0xA5A5A5A5ull, sym + 3); }

int mus_ppm_train(mus_ppm *p, const mus_song *s)
{
    if (!mus_ppm_has_part(p->head, s)) return 0;
    uint64_t keys[MUS_PPM_MAX_ORDER + 1];
    for (int t = 0; t < s->nsteps; t++) {
        uint64_t sym = mus_ppm_symbol(p->head, &s->frame[t]);
        if (p->head == MUS_PPM_DRUMS) {
            for (int u = 0; u < MUS_DRUM_UNITS; u++) p->bit_on[u] += (double)(sym >> u & 1);
            p->bit_steps++;
        }
        context_keys(p, s, t, keys);
        for (int k = 0; k <= p->max_order; k++) {
            slot *c = table_get(&p->t, keys[k], 1);
            if (!c) return -1;
            if (!c->a && !c->b) p->contexts++;
            slot *x = table_get(&p->t, symbol_key(keys[k], sym), 1);
            if (!x) return -1;
            c = table_get(&p->t, keys[k], 0); /* the table may have grown */
            if (!x->a) c->b++;
            x->a++;
            c->a++;
        }
    }
    return 0;
}

/* The base distribution (below order 0). */
static double base_prob(const mus_ppm *p, uint64_t sym)
{
    switch (p->head) {
    case MUS_PPM_BASS:
    case MUS_PPM_LEAD: return 1.0 / MUS_MONO_VOCAB;
    case MUS_PPM_COMP: return 1.0 / (2 + 2 * MUS_NCHORDS);
    default: {
        double lp = 0, n = p->bit_steps > 0 ? p->bit_steps : 1;
        for (int u = 0; u < MUS_DRUM_UNITS; u++) {
            double q = (p->bit_on[u] + 0.5) / (n + 1.0);
            lp += log(sym >> u & 1 ? q : 1 - q);
        }
        return exp(lp);
    }
    }
}

void mus_ppm_score(const mus_ppm *p, const mus_song *s, double *nll, long *steps)
{
    if (!mus_ppm_has_part(p->head, s)) return;
    uint64_t keys[MUS_PPM_MAX_ORDER + 1];
    for (int t = 0; t < s->nsteps; t++) {
        uint64_t sym = mus_ppm_symbol(p->head, &s->frame[t]);
        context_keys(p, s, t, keys);
        double prob = base_prob(p, sym);
        if (prob < 1e-300) prob = 1e-300;
        for (int k = 0; k <= p->max_order; k++) {
            const slot *c = table_find(&p->t, keys[k]);
            if (c && c->a) {
                const slot *x = table_find(&p->t, symbol_key(keys[k], sym));
                double cnt = x ? x->a : 0;
                prob = (cnt + c->b * prob) / ((double)c->a + c->b);
            }
            nll[k] -= log(prob);
        }
        (*steps)++;
    }
}
