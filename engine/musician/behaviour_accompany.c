/* behaviour_accompany.c: the trained musician as the band's behaviour. */
#include "engine/musician/mus_accompany.h"
#include "engine/musician.h"
#include "engine/musician/mus_chart.h"
#include "engine/musician/mus_lead.h"
#include "engine/musician/mus_listen.h"
#include "engine/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct accompany {
    bm_behaviour base;
    mus_model *model;
    mus_band *band;
    mus_listen listen;
    int64_t k;              /* the next model step */
    int started;
    int64_t last_engine_step;
    float swing_tri, swing_quad; /* decaying counts of the performer's onsets on triplet and 16th positions */
    mus_chart_chord *chords;
    int nchords;
    mus_lead lead;          /* the mode: what the band's lead does (accompany, call and response, duet) */
    /* the preview of the next beat: copies to sample ahead on */
    mus_band_snapshot *snap;
    struct accompany *shadow;
};

static void acc_reset(bm_behaviour *bb)
{
    struct accompany *a = (struct accompany *)bb;
    mus_band_reset(a->band);
    mus_listen_reset(&a->listen);
    a->started = 0;
    a->k = 0;
    a->swing_tri = a->swing_quad = 0;
    mus_lead_reset(&a->lead);
}

static void acc_destroy(bm_behaviour *bb)
{
    struct accompany *a = (struct accompany *)bb;
    mus_band_snapshot_free(a->snap);
    free(a->shadow);
    mus_band_free(a->band);
    mus_model_release(a->model);
    free(a->chords);
    free(a);
}

static void hear(struct accompany *a, const bm_event *human, int nhuman)
{
    for (int i = 0; i < nhuman; i++) {
        const bm_event *h = &human[i];
        if (h->type == BM_EV_NOTE_ON && h->velocity > 0) {
            mus_listen_note(&a->listen, 1, h->note, h->velocity);
            double f = h->beat - floor(h->beat);
            a->swing_tri *= 0.97f;
            a->swing_quad *= 0.97f;
            if (fabs(f - 1.0 / 3) < 0.05 || fabs(f - 2.0 / 3) < 0.05) a->swing_tri += 1;
            else if (fabs(f - 0.25) < 0.05 || fabs(f - 0.5) < 0.05 || fabs(f - 0.75) < 0.05) a->swing_quad += 1;
        } else if (h->type == BM_EV_NOTE_OFF || h->type == BM_EV_NOTE_ON) {
            mus_listen_note(&a->listen, 0, h->note, 0);
        }
        mus_lead_hear(&a->lead, h);
    }
}

static void controls(struct accompany *a, const bm_step_ctx *ctx, mus_band_ctl *c)
{
    *c = mus_band_ctl_defaults();
    const double *v = ctx->controls;
    if (v) {
        c->temperature = (float)v[BM_CTL_TEMPERATURE];
        c->top_p = (float)v[BM_CTL_TOP_P];
        c->density = (float)v[BM_CTL_DENSITY];
        c->key = v[BM_CTL_KEY] >= 0 ? (int)v[BM_CTL_KEY] % 12 : -1;
        c->scale = (int)v[BM_CTL_SCALE];
        c->style = v[BM_CTL_STYLE] >= 0 && v[BM_CTL_STYLE] < MUS_NSTYLES - 1 ? (int)v[BM_CTL_STYLE] + 1 : 0;
        c->memory = (float)v[BM_CTL_MEMORY];
        c->swing = (float)v[BM_CTL_SWING];
    }
    /* a performer who plays swung or in triplets gets a band that does too */
    if (a->swing_tri >= 4 && a->swing_tri > 1.5f * a->swing_quad && c->swing < 1) c->swing = 1;
    c->parts = 0;
    for (int p = 0; p < MUS_NPARTS; p++)
        if (ctx->parts_enabled >> (p + 1) & 1) c->parts |= 1u << p;
    int role = ctx->human_role;
    c->role = role >= BM_PART_BASS && role <= BM_PART_LEAD ? role : mus_listen_guess_role(&a->listen);
    /* a lead performer's part stays open to the band's lead for the modes that play over or
     * after them (mus_lead steers it; the musician still silences the part when it is off) */
    if (c->role == MUS_ROLE_LEAD) c->parts |= 1u << MUS_LEAD;
    /* the performer's part (guessed) is theirs */
    if (c->role != MUS_ROLE_LEAD && c->role != MUS_ROLE_NONE) c->parts &= ~(1u << (c->role - 1));
}

/* The tune's chord at a beat: the control layer's chart when there is one, else the one set with
 * behaviour_accompany_set_chart (evaluation, tests). */
static void chart_at(const struct accompany *a, const bm_step_ctx *ctx, double beat, mus_band_ctl *c)
{
    int root;
    uint16_t pcs;
    if (ctx->chart && bm_band_chart_at(ctx->chart, beat, &root, &pcs) == 0) {
        if (root >= 0 && pcs) {
            c->chart_root = root;
            c->chart_pcs = pcs;
        }
        return;
    }
    if (!a->nchords) return;
    int lo = 0, hi = a->nchords - 1, at = -1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (a->chords[mid].beat <= beat + 1e-6) {
            at = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    if (at >= 0 && a->chords[at].root >= 0) {
        c->chart_root = a->chords[at].root;
        c->chart_pcs = a->chords[at].pcs;
    }
}

/* The model steps of [a->k, until): steered by the mode and the chart, sampled, performed. */
static int run_steps(struct accompany *a, const bm_step_ctx *ctx, const mus_band_ctl *base, double until,
                     uint64_t *rng, bm_event *out, int max)
{
    int bpb = ctx->beats_per_bar > 0 ? ctx->beats_per_bar : 4;
    const bm_listen_state *h = ctx->heard;
    uint16_t key_pcs = h && h->key_root >= 0 ? mus_pcs_transpose(mus_mode_scale(h->key_minor ? 1 : 0), h->key_root) : 0;
    int n = 0;
    while ((double)a->k / MUS_STEPS_PER_BEAT < until - 1e-6) {
        double beat = (double)a->k / MUS_STEPS_PER_BEAT;
        mus_hsum heard;
        mus_frame tokens;
        mus_listen_close(&a->listen, base->role, &heard, &tokens);
        mus_band_ctl c = *base;
        a->lead.bpm = ctx->bpm;
        mus_lead_steer(&a->lead, &c, a->k, bpb, key_pcs);
        c.chart_root = -1;
        chart_at(a, ctx, beat, &c);
        mus_frame f = mus_band_decide(a->band, &c, a->k, bpb, &heard, &tokens, rng);
        n += mus_band_perform(a->band, &c, &f, beat, ctx->channel, out + n, max - n);
        a->k++;
    }
    return n;
}

static int acc_step(bm_behaviour *bb, const bm_step_ctx *ctx, const bm_event *human, int nhuman, bm_event *out,
                    int max)
{
    struct accompany *a = (struct accompany *)bb;
    hear(a, human, nhuman);
    mus_band_ctl c;
    controls(a, ctx, &c);
    if (!a->started || ctx->step != a->last_engine_step + 1) { /* a start, or the musician skipped steps */
        a->k = (int64_t)ceil(ctx->beat * MUS_STEPS_PER_BEAT - 1e-6);
        a->started = 1;
    }
    a->last_engine_step = ctx->step;
    return run_steps(a, ctx, &c, ctx->beat + ctx->step_beats, ctx->rng, out, max);
}

static int acc_preview(bm_behaviour *bb, const bm_step_ctx *ctx, bm_event *out, int max)
{
    struct accompany *a = (struct accompany *)bb;
    if (!a->started || !a->snap || !a->shadow) return 0;
    *a->shadow = *a; /* listening, the mode's state, the step: the copy keeps its own pointers */
    mus_band_save(a->band, a->snap);
    mus_band_ctl c;
    controls(a, ctx, &c);
    uint64_t rng = *ctx->rng ^ 0x9E3779B97F4A7C15ull; /* its own draws: the band's are untouched */
    int n = run_steps(a, ctx, &c, (double)a->k / MUS_STEPS_PER_BEAT + 1.0, &rng, out, max);
    mus_band_restore(a->band, a->snap);
    *a = *a->shadow;
    for (int i = 0; i < n; i++) out[i].flags |= BM_EVF_PREVIEW;
    return n;
}

int behaviour_accompany_prime(bm_behaviour *bb, const bm_step_ctx *ctx, const bm_event *phrase, int n)
{
    /* the phrase is heard step by step as if played, the band resting: for call and response */
    struct accompany *a = (struct accompany *)bb;
    if (n <= 0) return 0;
    mus_band_ctl c;
    controls(a, ctx, &c);
    int bpb = ctx->beats_per_bar > 0 ? ctx->beats_per_bar : 4;
    double first = phrase[0].beat, last = phrase[n - 1].beat;
    int64_t k0 = (int64_t)floor(first * MUS_STEPS_PER_BEAT), k1 = (int64_t)floor(last * MUS_STEPS_PER_BEAT) + 1;
    if (k1 - k0 > 512) k0 = k1 - 512; /* bounded (about 30 ms of model steps): the last 32 bars of 4/4 */
    int i = 0;
    mus_frame rest = mus_frame_rest();
    for (int64_t k = k0; k <= k1; k++) {
        while (i < n && phrase[i].beat < (double)k / MUS_STEPS_PER_BEAT) hear(a, &phrase[i++], 1);
        mus_hsum heard;
        mus_frame tokens;
        mus_listen_close(&a->listen, c.role, &heard, &tokens);
        mus_band_observe(a->band, &c, k, bpb, &heard, &tokens, &rest);
    }
    return 0;
}

static int acc_set_mode(bm_behaviour *bb, const char *mode)
{
    struct accompany *a = (struct accompany *)bb;
    int m = mus_lead_mode_from_name(mode);
    if (m < 0) return -1;
    mus_lead_set_mode(&a->lead, m);
    return 0;
}

static const bm_behaviour_ops acc_ops = {"accompany", acc_reset, acc_step, acc_destroy, acc_set_mode, acc_preview};

bm_behaviour *behaviour_accompany_create(const char *model_path, char *err, size_t errlen)
{
    char path[1024];
    if (model_path) snprintf(path, sizeof path, "%s", model_path);
    else mus_model_default_path(path, sizeof path);
    struct accompany *a = calloc(1, sizeof *a);
    if (!a) {
        bm_errf(err, errlen, "out of memory starting the accompaniment");
        return NULL;
    }
    a->base.ops = &acc_ops;
    a->model = mus_model_shared(path, err, errlen);
    if (!a->model) {
        free(a);
        return NULL;
    }
    a->band = mus_band_create(a->model, err, errlen);
    a->snap = a->band ? mus_band_snapshot_create(a->band) : NULL;
    a->shadow = malloc(sizeof *a->shadow);
    if (!a->band || !a->snap || !a->shadow) {
        if (a->band && (!a->snap || !a->shadow)) bm_errf(err, errlen, "out of memory starting the accompaniment");
        mus_band_snapshot_free(a->snap);
        free(a->shadow);
        mus_band_free(a->band);
        mus_model_release(a->model);
        free(a);
        return NULL;
    }
    acc_reset(&a->base);
    return &a->base;
}

int behaviour_accompany_set_chart(bm_behaviour *bb, const struct mus_chart *chart)
{
    struct accompany *a = (struct accompany *)bb;
    free(a->chords);
    a->chords = NULL;
    a->nchords = 0;
    if (!chart || !chart->nchords) return 0;
    a->chords = malloc((size_t)chart->nchords * sizeof *a->chords);
    if (!a->chords) return -1;
    memcpy(a->chords, chart->chords, (size_t)chart->nchords * sizeof *a->chords);
    a->nchords = chart->nchords;
    return 0;
}

mus_band *behaviour_accompany_band(bm_behaviour *bb) { return ((struct accompany *)bb)->band; }

const mus_lead *behaviour_accompany_lead(bm_behaviour *bb) { return &((struct accompany *)bb)->lead; }
