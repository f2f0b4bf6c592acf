/* behaviour_echo.c: the echo harmoniser: a diatonic third above each performer note an eighth
 * later on the lead part, and the note itself a beat later, softer. The key is estimated online
 * from a decaying pitch-class histogram correlated with major and minor key profiles. */
#include "engine/behaviour.h"

#include <stdlib.h>
#include <string.h>

#define ECHO_DELAY_1 0.5   /* beats */
#define ECHO_DELAY_2 1.0

struct echo {
    bm_behaviour base;
    float pc_weight[12];
    int key_root;          /* 0..11 */
    int key_minor;
    int harmony[128];      /* harmony note chosen at each human note-on, -1 if none */
};

/* Key profiles (probe-tone ratings, Krumhansl and Kessler 1982). */
static const float major_profile[12] = {6.35f, 2.23f, 3.48f, 2.33f, 4.38f, 4.09f,
                                        2.52f, 5.19f, 2.39f, 3.66f, 2.29f, 2.88f};
static const float minor_profile[12] = {6.33f, 2.68f, 3.52f, 5.38f, 2.60f, 3.53f,
                                        2.54f, 4.75f, 3.98f, 2.69f, 3.34f, 3.17f};

static void estimate_key(struct echo *e)
{
    float best = -1e30f;
    for (int minor = 0; minor < 2; minor++)
        for (int root = 0; root < 12; root++) {
            const float *prof = minor ? minor_profile : major_profile;
            float score = 0;
            for (int pc = 0; pc < 12; pc++) score += e->pc_weight[pc] * prof[(pc - root + 12) % 12];
            if (score > best) {
                best = score;
                e->key_root = root;
                e->key_minor = minor;
            }
        }
}

static int in_scale(const struct echo *e, int note)
{
    static const int major[12] = {1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1};
    static const int minor[12] = {1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0};
    int deg = ((note - e->key_root) % 12 + 12) % 12;
    return e->key_minor ? minor[deg] : major[deg];
}

/* The diatonic third above: the scale tone three or four semitones up. */
static int third_above(const struct echo *e, int note)
{
    if (in_scale(e, note + 4) && !in_scale(e, note + 3)) return note + 4;
    if (in_scale(e, note + 3) && !in_scale(e, note + 4)) return note + 3;
    return e->key_minor ? note + 3 : note + 4;
}

static void echo_reset(bm_behaviour *b)
{
    struct echo *e = (struct echo *)b;
    memset(e->pc_weight, 0, sizeof e->pc_weight);
    e->key_root = 0;
    e->key_minor = 0;
    for (int i = 0; i < 128; i++) e->harmony[i] = -1;
}

static int emit(bm_event *out, int n, int max, const bm_step_ctx *ctx, int type, int note, int vel,
                double beat)
{
    if (n >= max || note < 0 || note > 127) return n;
    bm_event *ev = &out[n];
    memset(ev, 0, sizeof *ev);
    ev->type = (uint8_t)type;
    ev->part = BM_PART_LEAD;
    ev->channel = ctx->channel[BM_PART_LEAD];
    ev->note = (uint8_t)note;
    ev->velocity = (uint8_t)(vel < 1 ? 1 : vel > 127 ? 127 : vel);
    ev->flags = BM_EVF_BEAT;
    ev->beat = beat;
    return n + 1;
}

static int echo_step(bm_behaviour *b, const bm_step_ctx *ctx, const bm_event *human, int nhuman,
                     bm_event *out, int max)
{
    struct echo *e = (struct echo *)b;
    int n = 0;
    int lead_on = (ctx->parts_enabled >> BM_PART_LEAD) & 1;
    for (int i = 0; i < nhuman; i++) {
        const bm_event *h = &human[i];
        if (h->type == BM_EV_NOTE_ON) {
            for (int pc = 0; pc < 12; pc++) e->pc_weight[pc] *= 0.93f;
            e->pc_weight[h->note % 12] += 1.0f;
            estimate_key(e);
            if (!lead_on) continue;
            int harm = third_above(e, h->note);
            if (harm > 127) harm -= 12;
            if (e->harmony[h->note] >= 0) { /* the same key again before its release */
                n = emit(out, n, max, ctx, BM_EV_NOTE_OFF, e->harmony[h->note], 0, h->beat + ECHO_DELAY_1);
                n = emit(out, n, max, ctx, BM_EV_NOTE_OFF, h->note, 0, h->beat + ECHO_DELAY_2);
            }
            e->harmony[h->note] = harm;
            n = emit(out, n, max, ctx, BM_EV_NOTE_ON, harm, h->velocity * 8 / 10, h->beat + ECHO_DELAY_1);
            n = emit(out, n, max, ctx, BM_EV_NOTE_ON, h->note, h->velocity / 2, h->beat + ECHO_DELAY_2);
        } else if (h->type == BM_EV_NOTE_OFF) {
            int harm = e->harmony[h->note];
            if (harm < 0) continue;
            e->harmony[h->note] = -1;
            n = emit(out, n, max, ctx, BM_EV_NOTE_OFF, harm, 0, h->beat + ECHO_DELAY_1);
            n = emit(out, n, max, ctx, BM_EV_NOTE_OFF, h->note, 0, h->beat + ECHO_DELAY_2);
        }
    }
    return n;
}

static void echo_destroy(bm_behaviour *b) { free(b); }

static const bm_behaviour_ops echo_ops = {"echo", echo_reset, echo_step, echo_destroy, NULL, NULL};

bm_behaviour *behaviour_echo_create(void)
{
    struct echo *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->base.ops = &echo_ops;
    echo_reset(&e->base);
    return &e->base;
}
