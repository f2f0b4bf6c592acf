/* mus_batch.c: the training-sequence streams. */
#include "engine/musician/mus_batch.h"

#include <stdlib.h>
#include <string.h>

typedef struct stream {
    int song;           /* index into the corpus, -1 when idle */
    int t, start, end;  /* next step, first step, one past the last */
    int transpose, role, chart, style;
    float noise;        /* how often the band's own previous notes are replaced by wrong ones */
    int noise_bar, bar_chord; /* the bar whose comping is replaced, and by which chord (-1: none) */
    int fresh;          /* the next step starts a sequence (state reset) */
    mus_harmony harm;
    int last_chord;
    float *dens;        /* per-bar density quantiles of the song */
    int nbars;
} stream;

struct mus_batcher {
    const mus_corpus *c;
    const mus_model *m;
    mus_batch_opts o;
    int *idx, n, next;  /* song order and position in it */
    nn_rng rng;
    stream *s;
    int *ids, *targets[MUS_NHEADS];
    float *dense, *mask, *multi;
    uint8_t *reset;
    float *bar_rate;    /* scratch */
    int bar_cap;
    int done;
};

mus_frame mus_frame_transpose(mus_frame f, int k)
{
    if (!k) return f;
    int p = mus_mono_pitch(f.bass, MUS_BASS_LOW);
    if (p >= 0) f.bass = (uint8_t)mus_mono_token(p + k, MUS_BASS_LOW);
    p = mus_mono_pitch(f.lead, MUS_LEAD_LOW);
    if (p >= 0) f.lead = (uint8_t)mus_mono_token(p + k, MUS_LEAD_LOW);
    if (f.chord < MUS_NCHORDS)
        f.chord = (uint16_t)((((mus_chord_root(f.chord) + k) % 12 + 12) % 12) * MUS_NQUALITY + f.chord % MUS_NQUALITY);
    return f;
}

static uint8_t shift_pitch(int p, int k)
{
    if (!p) return 0;
    p += k;
    while (p < 1) p += 12;
    while (p > 127) p -= 12;
    return (uint8_t)p;
}

mus_hsum mus_hsum_transpose(mus_hsum h, int k)
{
    if (!k) return h;
    h.onset_pcs = mus_pcs_transpose(h.onset_pcs, k);
    h.sound_pcs = mus_pcs_transpose(h.sound_pcs, k);
    h.lo = shift_pitch(h.lo, k);
    h.hi = shift_pitch(h.hi, k);
    return h;
}

int mus_song_bar_rates(const mus_song *s, float *rate, int cap)
{
    int bar = s->beats_per_bar * MUS_STEPS_PER_BEAT;
    if (bar < 1) bar = 16;
    int nbars = (s->nsteps + bar - 1) / bar;
    if (nbars > cap) nbars = cap;
    for (int b = 0; b < nbars; b++) {
        int n = 0, t0 = b * bar, t1 = t0 + bar < s->nsteps ? t0 + bar : s->nsteps;
        for (int t = t0; t < t1; t++) {
            const mus_frame *f = &s->frame[t];
            n += __builtin_popcountll(f->drums);
            n += f->bass >= 2;
            n += f->comp >= MUS_COMP_SOFT;
        }
        rate[b] = t1 > t0 ? (float)n / (float)(t1 - t0) : 0;
    }
    return nbars;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void mus_density_fit(mus_model *m, const mus_corpus *c, const int *idx, int n)
{
    long total = 0;
    for (int i = 0; i < n; i++) {
        const mus_song *s = &c->songs[idx[i]];
        total += s->nsteps / (s->beats_per_bar * MUS_STEPS_PER_BEAT) + 1;
    }
    float *all = malloc((size_t)(total + 1) * sizeof *all);
    if (!all) return;
    long k = 0;
    for (int i = 0; i < n; i++) {
        const mus_song *s = &c->songs[idx[i]];
        k += mus_song_bar_rates(s, all + k, (int)(total - k));
    }
    if (k < 2) {
        free(all);
        return;
    }
    qsort(all, (size_t)k, sizeof *all, cmp_float);
    for (int q = 0; q < MUS_DENSITY_POINTS; q++) {
        long at = (long)((double)q / (MUS_DENSITY_POINTS - 1) * (double)(k - 1));
        m->density_q[q] = all[at];
    }
    /* strictly increasing, so that the quantile map is invertible */
    for (int q = 1; q < MUS_DENSITY_POINTS; q++)
        if (m->density_q[q] <= m->density_q[q - 1]) m->density_q[q] = m->density_q[q - 1] + 1e-4f;
    free(all);
}

void mus_batcher_free(mus_batcher *b)
{
    if (!b) return;
    if (b->s)
        for (int i = 0; i < b->o.B; i++) free(b->s[i].dens);
    free(b->s);
    free(b->idx);
    free(b->ids);
    for (int k = 0; k < MUS_NHEADS; k++) free(b->targets[k]);
    free(b->dense);
    free(b->mask);
    free(b->multi);
    free(b->reset);
    free(b->bar_rate);
    free(b);
}

static void shuffle(mus_batcher *b)
{
    for (int i = b->n - 1; i > 0; i--) {
        int j = (int)nn_rng_below(&b->rng, (uint32_t)(i + 1));
        int t = b->idx[i];
        b->idx[i] = b->idx[j];
        b->idx[j] = t;
    }
}

mus_batcher *mus_batcher_create(const mus_corpus *c, const int *idx, int n, const mus_model *m,
                                const mus_batch_opts *o)
{
    if (n < 1 || o->T < 1 || o->B < 1) return NULL;
    mus_batcher *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->c = c;
    b->m = m;
    b->o = *o;
    if (b->o.p_chart <= 0 && o->augment) b->o.p_chart = 0.35f;
    if (b->o.p_style_drop <= 0 && o->augment) b->o.p_style_drop = 0.2f;
    b->n = n;
    nn_rng_seed(&b->rng, o->seed ? o->seed : 1);
    size_t TB = (size_t)o->T * o->B;
    b->idx = malloc((size_t)n * sizeof *b->idx);
    b->s = calloc((size_t)o->B, sizeof *b->s);
    b->ids = malloc(TB * MUS_N_IDS * sizeof *b->ids);
    b->dense = malloc(TB * MUS_DENSE * sizeof *b->dense);
    b->mask = malloc(TB * sizeof *b->mask);
    b->multi = malloc(TB * MUS_DRUM_UNITS * sizeof *b->multi);
    b->reset = malloc(TB);
    b->bar_cap = 1 << 16;
    b->bar_rate = malloc((size_t)b->bar_cap * sizeof *b->bar_rate);
    int ok = b->idx && b->s && b->ids && b->dense && b->mask && b->multi && b->reset && b->bar_rate;
    for (int k = 0; k < MUS_NHEADS && ok; k++) ok = (b->targets[k] = malloc(TB * sizeof(int))) != NULL;
    if (!ok) {
        mus_batcher_free(b);
        return NULL;
    }
    memcpy(b->idx, idx, (size_t)n * sizeof *idx);
    mus_batcher_rewind(b);
    return b;
}

void mus_batcher_rewind(mus_batcher *b)
{
    b->next = 0;
    b->done = 0;
    if (b->o.augment == 1) shuffle(b);
    for (int i = 0; i < b->o.B; i++) {
        free(b->s[i].dens);
        memset(&b->s[i], 0, sizeof b->s[i]);
        b->s[i].song = -1;
    }
}

/* Picks the performer's role for a song visit among the parts it has. */
static int pick_role(mus_batcher *b, const mus_song *s)
{
    static const float weight[MUS_NROLES] = {0.12f, 0.15f, 0.08f, 0.25f, 0.40f};
    float w[MUS_NROLES], total = 0;
    for (int r = 0; r < MUS_NROLES; r++) {
        w[r] = r == 0 || (s->present >> (r - 1) & 1) ? weight[r] : 0;
        total += w[r];
    }
    float u = nn_rng_uniform(&b->rng) * total;
    for (int r = 0; r < MUS_NROLES; r++) {
        if (u < w[r]) return r;
        u -= w[r];
    }
    return MUS_ROLE_NONE;
}

static int start_song(mus_batcher *b, stream *st)
{
    if (b->next >= b->n) {
        if (!b->o.augment) return -1;
        if (b->o.augment == 1) shuffle(b);
        b->next = 0;
    }
    int si = b->idx[b->next++];
    const mus_song *s = &b->c->songs[si];
    free(st->dens);
    memset(st, 0, sizeof *st);
    st->song = si;
    st->end = s->nsteps;
    int bar = s->beats_per_bar * MUS_STEPS_PER_BEAT;
    if (b->o.augment == 2) {
        st->style = s->style;
    } else if (b->o.augment) {
        st->transpose = (int)nn_rng_below(&b->rng, 12) - 5;
        st->role = pick_role(b, s);
        st->chart = s->chart_root && nn_rng_uniform(&b->rng) < b->o.p_chart;
        st->style = nn_rng_uniform(&b->rng) < b->o.p_style_drop ? 0 : s->style;
        if (nn_rng_uniform(&b->rng) < 0.3f && s->nsteps > 4 * bar)
            st->start = (int)nn_rng_below(&b->rng, (uint32_t)(s->nsteps / bar - 2)) * bar;
        /* half the visits hear their own parts with mistakes, as a band hears itself when it plays
         * what it sampled: the model learns to follow the performer rather than trust itself */
        st->noise = nn_rng_uniform(&b->rng) < 0.5f ? 0.5f * nn_rng_uniform(&b->rng) : 0.0f;
    } else {
        /* validation: a fixed role per song, cycling lead, comping, none, bass */
        static const int roles[4] = {MUS_ROLE_LEAD, MUS_ROLE_COMP, MUS_ROLE_NONE, MUS_ROLE_BASS};
        st->role = roles[si % 4];
        if (st->role && !(s->present >> (st->role - 1) & 1)) st->role = MUS_ROLE_NONE;
        st->style = s->style;
    }
    if (b->o.max_steps_per_song && st->end - st->start > b->o.max_steps_per_song)
        st->end = st->start + b->o.max_steps_per_song;
    st->t = st->start;
    st->noise_bar = -1;
    st->bar_chord = -1;
    st->fresh = 1;
    mus_harmony_reset(&st->harm);
    st->last_chord = MUS_CHORD_NONE;
    /* density quantile per bar: the mean onset rate of the bar and its neighbours */
    int nb = mus_song_bar_rates(s, b->bar_rate, b->bar_cap);
    st->dens = malloc((size_t)(nb ? nb : 1) * sizeof *st->dens);
    if (!st->dens) return -1;
    for (int i = 0; i < nb; i++) {
        float sum = 0;
        int cnt = 0;
        for (int j = i - 1; j <= i + 1; j++)
            if (j >= 0 && j < nb) {
                sum += b->bar_rate[j];
                cnt++;
            }
        st->dens[i] = mus_density_quantile(b->m, sum / (float)cnt);
    }
    st->nbars = nb;
    return 0;
}

/* Replaces some of the band's own previous notes with plausible mistakes (never the performer's
 * part): a bar of comping on another chord, bass and lead notes a few semitones off. */
static void corrupt(mus_batcher *b, stream *st, mus_frame *f, int bar)
{
    if (bar != st->noise_bar) {
        st->noise_bar = bar;
        st->bar_chord = nn_rng_uniform(&b->rng) < st->noise
                            ? (int)nn_rng_below(&b->rng, 12) * MUS_NQUALITY + (int)nn_rng_below(&b->rng, 5)
                            : -1;
    }
    if (st->role != MUS_ROLE_COMP && st->bar_chord >= 0 && f->comp >= MUS_COMP_SOFT) f->chord = (uint16_t)st->bar_chord;
    if (st->role != MUS_ROLE_BASS && f->bass >= 2 && nn_rng_uniform(&b->rng) < st->noise) {
        int p = mus_mono_pitch(f->bass, MUS_BASS_LOW) + (int)nn_rng_below(&b->rng, 13) - 6;
        f->bass = (uint8_t)mus_mono_token(p, MUS_BASS_LOW);
    }
    if (st->role != MUS_ROLE_LEAD && f->lead >= 2 && nn_rng_uniform(&b->rng) < st->noise) {
        int p = mus_mono_pitch(f->lead, MUS_LEAD_LOW) + (int)nn_rng_below(&b->rng, 13) - 6;
        f->lead = (uint8_t)mus_mono_token(p, MUS_LEAD_LOW);
    }
}

int mus_batcher_next(mus_batcher *b, nn_seqnet_batch *out)
{
    int T = b->o.T, B = b->o.B, real = 0;
    for (int t = 0; t < T; t++)
        for (int r = 0; r < B; r++) {
            size_t row = (size_t)t * B + r;
            stream *st = &b->s[r];
            if (st->song < 0 || st->t >= st->end) {
                if (b->done || start_song(b, st) != 0) {
                    st->song = -1;
                    b->done = !b->o.augment;
                }
            }
            int *ids = b->ids + row * MUS_N_IDS;
            float *x = b->dense + row * MUS_DENSE;
            if (st->song < 0) { /* padding */
                memset(ids, 0, MUS_N_IDS * sizeof *ids);
                memset(x, 0, MUS_DENSE * sizeof *x);
                memset(b->multi + row * MUS_DRUM_UNITS, 0, MUS_DRUM_UNITS * sizeof(float));
                for (int k = 0; k < MUS_NHEADS; k++) b->targets[k][row] = -1;
                b->mask[row] = 0;
                b->reset[row] = 1;
                continue;
            }
            const mus_song *s = &b->c->songs[st->song];
            int k = st->transpose, tt = st->t;
            mus_step_in in;
            memset(&in, 0, sizeof in);
            in.beats_per_bar = s->beats_per_bar;
            int bar = s->beats_per_bar * MUS_STEPS_PER_BEAT;
            in.step_in_bar = tt % bar;
            in.style = st->style;
            in.role = st->role;
            int bi = tt / bar;
            in.density = st->nbars ? st->dens[bi < st->nbars ? bi : st->nbars - 1] : 0.5f;
            in.swing = s->swing;
            if (tt > st->start) {
                in.last = mus_frame_transpose(s->frame[tt - 1], k);
                if (st->role) in.human = mus_hsum_transpose(s->hsum[(size_t)(tt - 1) * MUS_NPARTS + st->role - 1], k);
                if (st->noise > 0) corrupt(b, st, &in.last, (tt - 1) / bar);
                if (in.last.comp >= MUS_COMP_SOFT) st->last_chord = in.last.chord;
            } else {
                in.last = mus_frame_rest();
            }
            mus_harmony_update(&st->harm, &in.human);
            in.harmony = &st->harm;
            in.last_chord = st->last_chord;
            in.chart_root = -1;
            if (st->chart && s->chart_root[tt] >= 0) {
                in.chart_root = ((s->chart_root[tt] + k) % 12 + 12) % 12;
                in.chart_pcs = mus_pcs_transpose(s->chart_pcs[tt], k);
            }
            mus_features(&in, ids, x);
            /* targets */
            mus_frame f = mus_frame_transpose(s->frame[tt], k);
            int has_bass = s->present >> MUS_BASS & 1, has_comp = s->present >> MUS_COMP & 1;
            int has_lead = s->present >> MUS_LEAD & 1;
            b->targets[MUS_HEAD_BASS][row] = has_bass && st->role != MUS_ROLE_BASS ? f.bass : -1;
            b->targets[MUS_HEAD_COMP][row] = has_comp && st->role != MUS_ROLE_COMP ? f.comp : -1;
            b->targets[MUS_HEAD_CHORD][row] =
                has_comp && st->role != MUS_ROLE_COMP && f.comp >= MUS_COMP_SOFT ? f.chord : -1;
            /* the lead is learnt even from a performer's melody: the band continues it in answers */
            b->targets[MUS_HEAD_LEAD][row] = has_lead ? f.lead : -1;
            b->targets[MUS_HEAD_DRUMS][row] = -1;
            float *mh = b->multi + row * MUS_DRUM_UNITS;
            for (int u = 0; u < MUS_DRUM_UNITS; u++) mh[u] = (float)(f.drums >> u & 1);
            b->mask[row] = 1;
            b->reset[row] = (uint8_t)st->fresh;
            st->fresh = 0;
            st->t++;
            real++;
        }
    memset(out, 0, sizeof *out);
    out->T = T;
    out->B = B;
    out->ids = b->ids;
    out->dense = b->dense;
    out->reset = b->reset;
    out->mask = b->mask;
    for (int k = 0; k < MUS_NHEADS; k++) out->targets[k] = b->targets[k];
    out->multi[MUS_HEAD_DRUMS] = b->multi;
    return real;
}
