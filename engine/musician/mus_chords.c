/* mus_chords.c: the online chord tracker (an HMM filter with a form memory). */
#include "engine/musician/mus_chords.h"
#include "engine/musician/mus_corpus.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mus_chords_params mus_chords_defaults(void)
{
    /* chosen on the validation songs (bandmate eval --valid --tracker, docs/musician.md) */
    mus_chords_params p = {
        .w_onset = 1.0f, .w_held = 0.3f, .w_low = 1.0f, .key_backoff = 20.0f, .floor = 1e-3f,
        .rep_weight = 0.8f, .rep_decay = 0.8f, .rep_threshold = 0.5f,
    };
    return p;
}

static const int lag_bars[MUS_CT_NLAGS] = {1, 2, 4, 8, 12, 16, 24, 32};

int mus_chords_family(uint16_t rel)
{
    if (rel >> 4 & 1) return rel >> 10 & 1 ? MUS_FAM_DOMINANT : MUS_FAM_MAJOR;
    if (rel >> 3 & 1) return !(rel >> 7 & 1) && (rel >> 6 & 1) ? MUS_FAM_DIM : MUS_FAM_MINOR;
    return MUS_FAM_SUS;
}

int mus_chords_state_of(int root, uint16_t pcs)
{
    if (root < 0 || root > 11 || !pcs) return -1;
    return root * MUS_NFAMILIES + mus_chords_family(mus_pcs_transpose(pcs, -root));
}

static int role_index(int role)
{
    switch (role) {
    case MUS_ROLE_BASS: return 0;
    case MUS_ROLE_COMP: return 1;
    case MUS_ROLE_LEAD: return 2;
    default: return -1;
    }
}

static int mod12(int x) { return ((x % 12) + 12) % 12; }

/* where in the bar a step lies: 0 the bar line, 1 a beat, 2 an eighth, 3 a sixteenth */
static int place_of(int step_in_bar)
{
    if (step_in_bar == 0) return 0;
    int q = step_in_bar % MUS_STEPS_PER_BEAT;
    return q == 0 ? 1 : q == MUS_STEPS_PER_BEAT / 2 ? 2 : 3;
}

/* minor, dorian, aeolian and phrygian count as minor keys; major, mixolydian and lydian as major */
static int minor_mode(int mode) { return mode == 1 || mode == 2 || mode == 4 || mode == 5; }

/* ---- learning ---- */

void mus_chords_count_song(mus_chords_counts *c, const mus_song *s)
{
    if (!s->chart_root) return;
    int bar = s->beats_per_bar * MUS_STEPS_PER_BEAT, m = mus_meter_class(s->beats_per_bar);
    if (bar < 1) return;
    static const int part_of_role[MUS_CT_ROLES] = {MUS_BASS, MUS_COMP, MUS_LEAD};
    int prev = -1;
    for (int t = 0; t < s->nsteps; t++) {
        int st = mus_chords_state_of(s->chart_root[t], s->chart_pcs[t]);
        if (st < 0) {
            prev = -1;
            continue;
        }
        int r = st / MUS_NFAMILIES, f = st % MUS_NFAMILIES;
        uint16_t rel = mus_pcs_transpose(s->chart_pcs[t], -r);
        for (int i = 0; i < 12; i++) c->tone[f][i] += (float)(rel >> i & 1);
        c->tone[f][12] += 1;
        int pos = t % bar < MUS_MAX_BAR_STEPS ? t % bar : MUS_MAX_BAR_STEPS - 1;
        if (prev >= 0) {
            c->change[m][pos][0] += 1;
            if (st != prev) {
                int rp = prev / MUS_NFAMILIES, fp = prev % MUS_NFAMILIES;
                c->change[m][pos][1] += 1;
                c->rel[fp][mod12(r - rp)][f] += 1;
                int tonic = s->key_tonic ? s->key_tonic[t] : -1;
                if (tonic >= 0) {
                    int minor = minor_mode(s->key_mode[t]);
                    c->keyed[minor][mod12(rp - tonic)][fp][mod12(r - tonic)][f] += 1;
                }
            }
        }
        prev = st;
        for (int k = 0; k < MUS_CT_ROLES; k++) {
            if (!(s->present >> part_of_role[k] & 1)) continue;
            const mus_hsum *h = &s->hsum[(size_t)t * MUS_NPARTS + part_of_role[k]];
            int pl = place_of(t % bar);
            for (int pc = 0; pc < 12; pc++) {
                if (h->onset_pcs >> pc & 1) c->emit[k][pl][f][mod12(pc - r)] += 1;
                else if (h->sound_pcs >> pc & 1) c->held[k][f][mod12(pc - r)] += 1;
            }
            if (h->n_on && h->lo) c->low[k][f][mod12(h->lo % 12 - r)] += 1;
        }
    }
}

static void log_table(const float *counts, float *out, float prior)
{
    double total = 0;
    for (int i = 0; i < 12; i++) total += counts[i] + prior;
    for (int i = 0; i < 12; i++) out[i] = (float)(log((counts[i] + prior) / total) - log(1.0 / 12));
}

void mus_chords_model_build(mus_chords_model *m, const mus_chords_counts *c, const mus_chords_params *params)
{
    m->params = params ? *params : mus_chords_defaults();
    if (&m->counts != c) m->counts = *c;
    /* where chords change: by meter and position, backed off to the meter's mean rate */
    for (int me = 0; me < MUS_NMETERS; me++) {
        double all = 0, ch = 0;
        for (int p = 0; p < MUS_MAX_BAR_STEPS; p++) {
            all += c->change[me][p][0];
            ch += c->change[me][p][1];
        }
        double mean = (ch + 1) / (all + 64);
        for (int p = 0; p < MUS_MAX_BAR_STEPS; p++)
            m->p_change[me][p] = (float)((c->change[me][p][1] + 20 * mean) / (c->change[me][p][0] + 20));
    }
    /* where a change goes, without a key: family and root interval */
    float rel[MUS_NFAMILIES][12][MUS_NFAMILIES];
    for (int f = 0; f < MUS_NFAMILIES; f++) {
        double total = 0;
        for (int d = 0; d < 12; d++)
            for (int g = 0; g < MUS_NFAMILIES; g++)
                if (d || g != f) total += c->rel[f][d][g] + 0.5;
        for (int d = 0; d < 12; d++)
            for (int g = 0; g < MUS_NFAMILIES; g++)
                rel[f][d][g] = d || g != f ? (float)((c->rel[f][d][g] + 0.5) / total) : 0.0f;
    }
    for (int key = 0; key < MUS_CT_KEYS; key++)
        for (int a = 0; a < MUS_CT_STATES; a++) {
            int ra = a / MUS_NFAMILIES, fa = a % MUS_NFAMILIES;
            float *row = m->trans[key][a];
            double total = 0, n = 0;
            int tonic = key / 2, minor = key % 2;
            if (key < 24)
                for (int d = 0; d < 12; d++)
                    for (int g = 0; g < MUS_NFAMILIES; g++) n += c->keyed[minor][mod12(ra - tonic)][fa][d][g];
            for (int b = 0; b < MUS_CT_STATES; b++) {
                int rb = b / MUS_NFAMILIES, fb = b % MUS_NFAMILIES;
                double p = rel[fa][mod12(rb - ra)][fb];
                if (key < 24 && b != a)
                    p = (c->keyed[minor][mod12(ra - tonic)][fa][mod12(rb - tonic)][fb] + m->params.key_backoff * p) /
                        (n + m->params.key_backoff);
                row[b] = b == a ? 0.0f : (float)p;
                total += row[b];
            }
            for (int b = 0; b < MUS_CT_STATES; b++) row[b] = total > 0 ? (float)(row[b] / total) : 1.0f / MUS_CT_STATES;
        }
    for (int k = 0; k < MUS_CT_ROLES; k++)
        for (int f = 0; f < MUS_NFAMILIES; f++) {
            for (int pl = 0; pl < MUS_CT_PLACES; pl++) log_table(c->emit[k][pl][f], m->emit[k][pl][f], 1.0f);
            log_table(c->held[k][f], m->held[k][f], 1.0f);
            log_table(c->low[k][f], m->low[k][f], 1.0f);
        }
    /* the families' typical tones (a prior of the family's core tones for unseen families) */
    static const uint16_t core[MUS_NFAMILIES] = {0x091, 0x089, 0x491, 0x049, 0x0a1};
    for (int f = 0; f < MUS_NFAMILIES; f++)
        for (int i = 0; i < 12; i++)
            m->tone[f][i] = (float)((c->tone[f][i] + 2.0 * (core[f] >> i & 1)) / (c->tone[f][12] + 2.0));
}

char *mus_chords_counts_text(const mus_chords_counts *c)
{
    const float *v = (const float *)c;
    size_t n = sizeof *c / sizeof(float), cap = n * 12 + 64, len = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    len += (size_t)snprintf(s, cap, "%zu", n);
    for (size_t i = 0; i < n; i++) len += (size_t)snprintf(s + len, cap - len, " %.0f", v[i]);
    return s;
}

int mus_chords_counts_parse(mus_chords_counts *c, const char *text)
{
    float *v = (float *)c;
    size_t n = sizeof *c / sizeof(float);
    char *end;
    long want = strtol(text, &end, 10);
    if (end == text || want != (long)n) return -1;
    const char *p = end;
    for (size_t i = 0; i < n; i++) {
        double x = strtod(p, &end);
        if (end == p || !(x >= 0) || x > 1e12) return -1;
        v[i] = (float)x;
        p = end;
    }
    while (*p == ' ') p++;
    return *p ? -1 : 0;
}

/* ---- tracking ---- */

void mus_chords_reset(mus_chords *t)
{
    memset(t, 0, sizeof *t);
    for (int c = 0; c < MUS_CT_STATES; c++) t->post[c] = t->pred[c] = 1.0f / MUS_CT_STATES;
    t->rep_chord = -1;
}

/* out = (1 - p) x + p x T (moving through the key's change table) */
static void propagate(const mus_chords_model *m, int key, float p, const float *x, float *out)
{
    float moved[MUS_CT_STATES] = {0};
    for (int a = 0; a < MUS_CT_STATES; a++) {
        float w = x[a];
        if (w < 1e-6f) continue;
        const float *row = m->trans[key][a];
        for (int b = 0; b < MUS_CT_STATES; b++) moved[b] += w * row[b];
    }
    for (int b = 0; b < MUS_CT_STATES; b++) out[b] = (1 - p) * x[b] + p * moved[b];
}

static void normalise(float *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    float inv = s > 0 ? (float)(1.0 / s) : 0;
    for (int i = 0; i < n; i++) x[i] = s > 0 ? x[i] * inv : 1.0f / (float)n;
}

/* The evidence of a step for each chord (relative; all 1 when the step says nothing). */
static int evidence(const mus_chords_model *m, const mus_hsum *h, int role, int place, float *like)
{
    int k = role_index(role);
    uint16_t held = (uint16_t)(h->sound_pcs & ~h->onset_pcs);
    if (k < 0 || (!h->onset_pcs && !held)) {
        for (int c = 0; c < MUS_CT_STATES; c++) like[c] = 1;
        return 0;
    }
    float ll[MUS_CT_STATES], mx = -1e30f;
    for (int c = 0; c < MUS_CT_STATES; c++) {
        int r = c / MUS_NFAMILIES, f = c % MUS_NFAMILIES;
        const float *e = m->emit[k][place][f], *eh = m->held[k][f];
        float s = 0;
        for (int pc = 0; pc < 12; pc++) {
            if (h->onset_pcs >> pc & 1) s += m->params.w_onset * e[mod12(pc - r)];
            else if (held >> pc & 1) s += m->params.w_held * eh[mod12(pc - r)];
        }
        /* the lowest note of a chord (of a single line it is the note itself, already counted) */
        if (k == 1 && h->n_on && h->lo) s += m->params.w_low * m->low[k][f][mod12(h->lo % 12 - r)];
        ll[c] = s;
        mx = s > mx ? s : mx;
    }
    for (int c = 0; c < MUS_CT_STATES; c++) like[c] = expf(ll[c] - mx);
    return 1;
}

/* Labels the oldest step of the hindsight window (its posterior given the steps after it; the
 * backward pass lets a change go anywhere, weighted by where changes happen) and returns it. */
static int hindsight(const mus_chords *t, int64_t s)
{
    float beta[MUS_CT_STATES], nb[MUS_CT_STATES];
    for (int c = 0; c < MUS_CT_STATES; c++) beta[c] = 1;
    for (int64_t j = s; j > s - MUS_CT_LAG + 1; j--) {
        int i = (int)(j % MUS_CT_LAG);
        const float *l = t->like[i];
        float p = t->pch[i], mean = 0;
        for (int c = 0; c < MUS_CT_STATES; c++) mean += l[c] * beta[c];
        mean /= MUS_CT_STATES;
        float mx = 0;
        for (int c = 0; c < MUS_CT_STATES; c++) {
            nb[c] = (1 - p) * l[c] * beta[c] + p * mean;
            mx = nb[c] > mx ? nb[c] : mx;
        }
        for (int c = 0; c < MUS_CT_STATES; c++) beta[c] = mx > 0 ? nb[c] / mx : 1;
    }
    const float *a = t->alpha[(s - MUS_CT_LAG + 1) % MUS_CT_LAG];
    int best = 0;
    float bv = -1;
    for (int c = 0; c < MUS_CT_STATES; c++)
        if (a[c] * beta[c] > bv) {
            bv = a[c] * beta[c];
            best = c;
        }
    return best;
}

static uint8_t hist_at(const mus_chords *t, int64_t step) { return t->hist[step % MUS_CT_HISTORY]; }

/* The form memory: compares the newly labelled step with the same place 1, 2, 4 ... bars before,
 * at every chord change of either, and picks the lag that has matched best lately. */
static void form_memory(mus_chords *t, const mus_chords_params *p, int64_t s)
{
    t->rep_chord = -1;
    t->rep_conf = 0;
    int64_t lab = s - MUS_CT_LAG + 1;
    if (lab < 0) return;
    t->hist[lab % MUS_CT_HISTORY] = (uint8_t)hindsight(t, s);
    int best = -1;
    float bs = 0;
    for (int k = 0; k < MUS_CT_NLAGS; k++) {
        int64_t L = (int64_t)lag_bars[k] * t->bar_steps;
        if (L < MUS_CT_LAG || L + 2 > MUS_CT_HISTORY) continue;
        if (lab - L - 1 >= 0) {
            int a = hist_at(t, lab), a1 = hist_at(t, lab - 1), b = hist_at(t, lab - L), b1 = hist_at(t, lab - L - 1);
            if (a != a1 || b != b1) t->score[k] = p->rep_decay * t->score[k] + (1 - p->rep_decay) * (float)(a == b);
        }
        if (s + 1 - L >= 0 && t->score[k] > bs) {
            bs = t->score[k];
            best = k;
        }
    }
    if (best >= 0 && bs > p->rep_threshold) {
        t->rep_conf = (bs - p->rep_threshold) / (1 - p->rep_threshold);
        t->rep_chord = hist_at(t, s + 1 - (int64_t)lag_bars[best] * t->bar_steps);
    }
}

static void lean_on_memory(const mus_chords *t, const mus_chords_params *p, float *x)
{
    if (t->rep_chord < 0) return;
    float w = p->rep_weight * t->rep_conf;
    for (int c = 0; c < MUS_CT_STATES; c++) x[c] *= 1 - w;
    x[t->rep_chord] += w;
}

void mus_chords_hear(mus_chords *t, const mus_chords_model *m, const mus_hsum *heard, int role, int bpb,
                     int step_in_bar, int key_tonic, int key_mode)
{
    static const mus_hsum silence;
    if (!heard) heard = &silence;
    int bar = bpb * MUS_STEPS_PER_BEAT;
    if (bar < 1) bar = 16;
    if (bar != t->bar_steps) { /* a new meter: the lags are measured anew */
        t->bar_steps = bar;
        memset(t->score, 0, sizeof t->score);
    }
    int me = mus_meter_class(bpb);
    int pos = ((step_in_bar % bar) + bar) % bar;
    int key = key_tonic >= 0 && key_tonic < 12 ? key_tonic * 2 + (key_mode == 1) : 24;
    int64_t s = t->heard++;
    int i = (int)(s % MUS_CT_LAG);
    /* the chord of the heard step: the prediction made for it, weighed by what was played */
    float *like = t->like[i];
    evidence(m, heard, role, place_of(pos), like);
    float x[MUS_CT_STATES];
    for (int c = 0; c < MUS_CT_STATES; c++) x[c] = t->pred[c] * like[c];
    normalise(x, MUS_CT_STATES);
    float fl = m->params.floor;
    for (int c = 0; c < MUS_CT_STATES; c++) t->post[c] = (1 - fl) * x[c] + fl / MUS_CT_STATES;
    memcpy(t->alpha[i], t->post, sizeof t->post);
    t->pch[i] = m->p_change[me][pos < MUS_MAX_BAR_STEPS ? pos : MUS_MAX_BAR_STEPS - 1];
    form_memory(t, &m->params, s);
    /* the next step's chord */
    int next = (pos + 1) % bar;
    propagate(m, key, m->p_change[me][next < MUS_MAX_BAR_STEPS ? next : MUS_MAX_BAR_STEPS - 1], t->post, t->pred);
    lean_on_memory(t, &m->params, t->pred);
    normalise(t->pred, MUS_CT_STATES);
}

static void tones(const mus_chords_model *m, const float *x, float *out)
{
    for (int pc = 0; pc < 12; pc++) out[pc] = 0;
    for (int c = 0; c < MUS_CT_STATES; c++) {
        if (x[c] < 1e-5f) continue;
        int r = c / MUS_NFAMILIES, f = c % MUS_NFAMILIES;
        for (int pc = 0; pc < 12; pc++) out[pc] += x[c] * m->tone[f][mod12(pc - r)];
    }
}

void mus_chords_predicted_tones(const mus_chords *t, const mus_chords_model *m, float *pcs) { tones(m, t->pred, pcs); }

int mus_chords_best(const mus_chords *t, float *p)
{
    int best = 0;
    for (int c = 1; c < MUS_CT_STATES; c++)
        if (t->pred[c] > t->pred[best]) best = c;
    if (p) *p = t->pred[best];
    return best;
}

