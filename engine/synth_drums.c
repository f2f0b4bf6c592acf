/* synth_drums.c: the classic drum kit: analogue-style kick, snare, toms, hats, cymbals, clap and
 * percussion, synthesised (no samples), on the General MIDI drum map. */
#include "engine/synth.h"
#include "engine/synth_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_KICK, K_SNARE, K_RIM, K_CLAP, K_TOM, K_HAT_CLOSED, K_HAT_OPEN, K_CRASH, K_RIDE,
            K_BELL, K_COWBELL, K_SHAKER, K_CLAVE, K_TAMBOURINE };

struct pad {
    int kind;
    float pitch;      /* Hz of the tone, when there is one */
    float decay;      /* seconds to -40 dB */
    float gain;
    int choke_group;  /* hats choke each other */
};

struct dvoice {
    int note;         /* -1 free */
    uint32_t age;
    struct pad pad;
    float vel;
    float t;          /* seconds since the hit */
    float ph, ph2, metal[6];
    float amp, amp_coef, noise_amp, noise_coef;
    float fade, fade_step;
    float last;              /* the last sample this voice produced */
    float declick, declick_coef;
    svf bp, hp;
    uint32_t rng;
};

struct drums {
    bm_instrument base;
    int nvoices;
    float sr;
    uint32_t clock;
    struct dvoice v[];
};

static struct pad pad_for(int note)
{
    switch (note) {
    case 35: return (struct pad){K_KICK, 48, 0.45f, 1.0f, 0};
    case 36: return (struct pad){K_KICK, 55, 0.38f, 1.0f, 0};
    case 37: return (struct pad){K_RIM, 1700, 0.04f, 0.35f, 0};
    case 38: return (struct pad){K_SNARE, 185, 0.22f, 0.55f, 0};
    case 40: return (struct pad){K_SNARE, 200, 0.18f, 0.6f, 0};
    case 39: return (struct pad){K_CLAP, 1100, 0.25f, 0.45f, 0};
    case 41: return (struct pad){K_TOM, 82, 0.45f, 0.7f, 0};
    case 43: return (struct pad){K_TOM, 98, 0.42f, 0.7f, 0};
    case 45: return (struct pad){K_TOM, 117, 0.4f, 0.65f, 0};
    case 47: return (struct pad){K_TOM, 139, 0.36f, 0.6f, 0};
    case 48: return (struct pad){K_TOM, 165, 0.34f, 0.6f, 0};
    case 50: return (struct pad){K_TOM, 196, 0.32f, 0.55f, 0};
    case 42: return (struct pad){K_HAT_CLOSED, 0, 0.06f, 0.22f, 1};
    case 44: return (struct pad){K_HAT_CLOSED, 0, 0.045f, 0.18f, 1};
    case 46: return (struct pad){K_HAT_OPEN, 0, 0.45f, 0.2f, 1};
    case 49: case 57: return (struct pad){K_CRASH, 0, 1.6f, 0.22f, 0};
    case 52: case 55: return (struct pad){K_CRASH, 0, 0.9f, 0.2f, 0};
    case 51: case 59: return (struct pad){K_RIDE, 0, 1.1f, 0.16f, 0};
    case 53: return (struct pad){K_BELL, 0, 0.9f, 0.2f, 0};
    case 54: return (struct pad){K_TAMBOURINE, 0, 0.18f, 0.18f, 0};
    case 56: return (struct pad){K_COWBELL, 560, 0.3f, 0.25f, 0};
    case 69: case 70: case 82: return (struct pad){K_SHAKER, 0, 0.07f, 0.16f, 0};
    case 75: case 76: case 77: return (struct pad){K_CLAVE, note == 75 ? 2500.0f : 1500.0f, 0.06f, 0.3f, 0};
    default:
        if (note < 35) return (struct pad){K_KICK, 50, 0.3f, 0.8f, 0};
        if (note < 60) return (struct pad){K_RIM, 1200, 0.05f, 0.3f, 0};
        if (note < 70) return (struct pad){K_TOM, 160.0f + 10.0f * (float)(note - 60), 0.3f, 0.5f, 0};
        return (struct pad){K_CLAVE, 1000.0f + 40.0f * (float)(note - 70), 0.06f, 0.25f, 0};
    }
}

static void drums_note_on(bm_instrument *in, int note, int velocity)
{
    struct drums *d = (struct drums *)in;
    if (note < 0 || note > 127 || velocity <= 0) return;
    struct pad pad = pad_for(note);
    struct dvoice *v = NULL;
    /* choke: a hat silences the other hats (quickly, not with a click) */
    for (int i = 0; i < d->nvoices; i++) {
        struct dvoice *w = &d->v[i];
        if (w->note >= 0 && pad.choke_group && w->pad.choke_group == pad.choke_group && w->fade_step == 0)
            w->fade_step = 1.0f / (0.004f * d->sr);
    }
    for (int i = 0; i < d->nvoices && !v; i++)
        if (d->v[i].note < 0) v = &d->v[i];
    if (!v) { /* steal the oldest hit: it is the quietest */
        for (int i = 0; i < d->nvoices; i++)
            if (!v || d->v[i].age < v->age) v = &d->v[i];
    }
    if (!v) return;
    /* a stolen voice hands its last output on as a short decaying offset: no step, no click */
    float carry = v->note >= 0 ? v->last + v->declick : 0;
    memset(v, 0, sizeof *v);
    v->declick = carry;
    v->declick_coef = time_to_coef(0.003f, d->sr);
    v->note = note;
    v->pad = pad;
    v->age = ++d->clock;
    v->vel = (float)velocity / 127.0f;
    v->rng = 0x9e3779b9u ^ (uint32_t)(note * 2654435761u) ^ d->clock;
    v->amp = 1.0f;
    v->amp_coef = time_to_coef(pad.decay, d->sr);
    v->noise_amp = 1.0f;
    v->fade = 1.0f;
    for (int k = 0; k < 6; k++) v->metal[k] = 0.13f * (float)k;
    switch (pad.kind) {
    case K_SNARE:
        svf_set(&v->bp, 3500, 0.8f, d->sr);
        v->noise_coef = time_to_coef(pad.decay * 1.3f, d->sr);
        break;
    case K_CLAP:
        svf_set(&v->bp, pad.pitch, 2.0f, d->sr);
        v->noise_coef = time_to_coef(pad.decay, d->sr);
        break;
    case K_HAT_CLOSED:
    case K_HAT_OPEN:
    case K_CRASH:
    case K_RIDE:
    case K_BELL:
    case K_TAMBOURINE:
    case K_SHAKER:
        svf_set(&v->hp, pad.kind == K_CRASH ? 5000 : 7000, 0.7f, d->sr);
        svf_set(&v->bp, pad.kind == K_BELL ? 3200 : 9000, 1.2f, d->sr);
        v->noise_coef = v->amp_coef;
        break;
    default:
        svf_set(&v->bp, pad.pitch * 2.0f, 1.5f, d->sr);
        v->noise_coef = time_to_coef(0.01f, d->sr);
        break;
    }
}

static void drums_note_off(bm_instrument *in, int note) { (void)in; (void)note; /* hits ring out */ }

static void drums_pitch_bend(bm_instrument *in, float semitones) { (void)in; (void)semitones; }

static void drums_control(bm_instrument *in, int cc, int value) { (void)in; (void)cc; (void)value; }

static void drums_all_notes_off(bm_instrument *in, int immediate)
{
    struct drums *d = (struct drums *)in;
    for (int i = 0; i < d->nvoices; i++)
        if (d->v[i].note >= 0)
            d->v[i].fade_step = 1.0f / ((immediate ? 0.005f : 0.05f) * d->sr);
}

static float metallic(struct dvoice *v, float base_hz, float sr)
{
    static const float ratio[6] = {1.0f, 1.342f, 1.2312f, 1.6532f, 1.9523f, 2.1523f};
    float s = 0;
    for (int k = 0; k < 6; k++) {
        float dt = base_hz * ratio[k] / sr;
        s += v->metal[k] < 0.5f ? 1.0f : -1.0f;
        v->metal[k] += dt;
        if (v->metal[k] >= 1.0f) v->metal[k] -= 1.0f;
    }
    return s * (1.0f / 6.0f);
}

static void drums_render(bm_instrument *in, float *out, uint32_t n)
{
    struct drums *d = (struct drums *)in;
    float sr = d->sr, inv_sr = 1.0f / sr;
    for (int vi = 0; vi < d->nvoices; vi++) {
        struct dvoice *v = &d->v[vi];
        if (v->note < 0) continue;
        float g = v->pad.gain * (0.15f + 0.85f * v->vel * v->vel);
        for (uint32_t i = 0; i < n; i++) {
            float s = 0, nz = noise_next(&v->rng), bp, hp;
            switch (v->pad.kind) {
            case K_KICK: {
                float hz = v->pad.pitch * (1.0f + 2.2f * expf(-v->t * 28.0f));
                v->ph = wrap01(v->ph + hz * inv_sr);
                s = sinf(BM_TWO_PI * v->ph) * v->amp;
                s += 0.3f * nz * v->noise_amp;     /* beater click */
                v->noise_amp *= v->noise_coef;
                break;
            }
            case K_TOM: {
                float hz = v->pad.pitch * (1.0f + 0.6f * expf(-v->t * 18.0f));
                v->ph = wrap01(v->ph + hz * inv_sr);
                s = sinf(BM_TWO_PI * v->ph) * v->amp + 0.15f * nz * v->noise_amp;
                v->noise_amp *= v->noise_coef;
                break;
            }
            case K_SNARE: {
                v->ph = wrap01(v->ph + v->pad.pitch * inv_sr);
                v->ph2 = wrap01(v->ph2 + v->pad.pitch * 1.78f * inv_sr);
                float tone = (0.6f * sinf(BM_TWO_PI * v->ph) + 0.4f * sinf(BM_TWO_PI * v->ph2)) *
                             v->amp * v->amp;
                svf_tick(&v->bp, nz, &bp, &hp);
                s = 0.55f * tone + 0.9f * (0.6f * hp + 0.4f * nz) * v->noise_amp;
                v->noise_amp *= v->noise_coef;
                break;
            }
            case K_CLAP: {
                /* three quick bursts, then the tail */
                float t = v->t, burst = 0;
                for (int k = 0; k < 3; k++) {
                    float tk = t - 0.011f * (float)k;
                    if (tk >= 0 && tk < 0.01f) burst += expf(-tk * 400.0f);
                }
                svf_tick(&v->bp, nz, &bp, NULL);
                s = bp * (burst + (t > 0.022f ? v->noise_amp : 0)) * 2.0f;
                if (t > 0.022f) v->noise_amp *= v->noise_coef;
                break;
            }
            case K_RIM:
            case K_CLAVE:
                v->ph = wrap01(v->ph + v->pad.pitch * inv_sr);
                svf_tick(&v->bp, nz, &bp, NULL);
                s = (sinf(BM_TWO_PI * v->ph) + 0.5f * bp) * v->amp;
                break;
            case K_COWBELL: {
                v->ph = wrap01(v->ph + v->pad.pitch * inv_sr);
                v->ph2 = wrap01(v->ph2 + v->pad.pitch * 1.48f * inv_sr);
                float sq = (v->ph < 0.5f ? 1.0f : -1.0f) + (v->ph2 < 0.5f ? 1.0f : -1.0f);
                s = svf_tick(&v->bp, sq * 0.5f, &bp, NULL);
                s = bp * v->amp * 1.5f;
                break;
            }
            default: { /* hats, cymbals, bell, tambourine, shaker: metal + noise, high-passed */
                float metal = v->pad.kind == K_SHAKER ? 0 : metallic(v, v->pad.kind == K_BELL ? 540 : 410, sr);
                float src = (v->pad.kind == K_BELL ? 0.8f : 0.45f) * metal +
                            (v->pad.kind == K_BELL ? 0.2f : 0.55f) * nz;
                svf_tick(&v->hp, src, NULL, &hp);
                svf_tick(&v->bp, hp, &bp, NULL);
                s = (0.7f * hp + 0.5f * bp) * v->amp;
                break;
            }
            }
            v->amp *= v->amp_coef;
            v->t += inv_sr;
            if (v->fade_step > 0) {
                v->fade -= v->fade_step;
                if (v->fade < 0) v->fade = 0;
            }
            float y = s * g * v->fade;
            v->last = y;
            out[i] += y + v->declick;
            v->declick *= v->declick_coef;
            if ((v->amp < 1e-4f || v->fade <= 0) && fabsf(v->declick) < 1e-5f) {
                v->note = -1;
                break;
            }
        }
    }
}

static int drums_active(const bm_instrument *in)
{
    const struct drums *d = (const struct drums *)in;
    int n = 0;
    for (int i = 0; i < d->nvoices; i++) n += d->v[i].note >= 0;
    return n;
}

static void drums_set_sample_rate(bm_instrument *in, double sr) { ((struct drums *)in)->sr = (float)sr; }

static void drums_destroy(bm_instrument *in) { free(in); }

static const bm_instrument_ops drums_ops = {
    "drums", drums_note_on, drums_note_off, drums_pitch_bend, drums_control, drums_all_notes_off,
    drums_render, drums_active, drums_set_sample_rate, drums_destroy, NULL,
};

bm_instrument *synth_drums_create(int voices, double sample_rate)
{
    if (voices < 1) voices = 1;
    if (voices > 64) voices = 64;
    struct drums *d = calloc(1, sizeof *d + (size_t)voices * sizeof(struct dvoice));
    if (!d) return NULL;
    d->base.ops = &drums_ops;
    snprintf(d->base.name, sizeof d->base.name, "classic:drums");
    d->nvoices = voices;
    d->sr = (float)(sample_rate > 0 ? sample_rate : 48000);
    for (int i = 0; i < voices; i++) d->v[i].note = -1;
    return &d->base;
}
