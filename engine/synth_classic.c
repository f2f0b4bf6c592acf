/* synth_classic.c: the classic polyphonic instrument: band-limited oscillators (PolyBLEP), 2-op FM
 * and additive organ, ADSR envelopes, a state-variable low-pass, glide and vibrato. It is the
 * fallback whenever a neural voice cannot load, and the reference for CPU comparisons. */
#include "engine/synth.h"
#include "engine/synth_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmmintrin.h>
#include <pmmintrin.h>

enum wave { W_SAW, W_SQUARE, W_FM, W_ORGAN };

struct preset {
    const char *name;
    int wave;
    float detune_cents;       /* second oscillator (saw/square) */
    float sub;                /* square one octave down */
    float cutoff;             /* Hz at velocity 64, before the envelope */
    float env_octaves;        /* filter envelope depth */
    float keytrack;           /* 0..1 */
    float q;
    float a, d, s, r;         /* amplitude envelope (seconds, level) */
    float fa, fd, fs, fr;     /* filter envelope */
    float glide;              /* seconds; > 0 makes the instrument glide between overlapping notes */
    float vib_depth, vib_rate;/* semitones, Hz (scaled by the mod wheel for the depth) */
    float fm_ratio, fm_index, fm_decay;
    float gain;
};

static const struct preset presets[BM_NUM_CLASSIC_PRESETS] = {
    [BM_CLASSIC_BASS] = {"bass", W_SAW, 0, 0.6f, 220, 2.5f, 0.3f, 1.2f, 0.003f, 0.25f, 0.7f, 0.08f,
                         0.001f, 0.18f, 0.1f, 0.1f, 0, 0, 5, 0, 0, 0, 0.55f},
    [BM_CLASSIC_KEYS] = {"keys", W_FM, 0, 0, 5000, 0, 0, 0.7f, 0.002f, 1.6f, 0.0f, 0.35f,
                         0, 0, 1, 0.5f, 0, 0.05f, 5, 1.0f, 2.2f, 0.6f, 0.30f},
    [BM_CLASSIC_LEAD] = {"lead", W_SAW, 9, 0, 900, 2.0f, 0.5f, 1.6f, 0.01f, 0.3f, 0.8f, 0.15f,
                         0.005f, 0.4f, 0.4f, 0.2f, 0, 0.25f, 5.5f, 0, 0, 0, 0.30f},
    [BM_CLASSIC_PAD] = {"pad", W_SAW, 14, 0, 700, 1.0f, 0.3f, 0.8f, 0.35f, 1.0f, 0.85f, 0.9f,
                        0.6f, 1.5f, 0.6f, 1.0f, 0, 0.08f, 4.5f, 0, 0, 0, 0.20f},
    [BM_CLASSIC_ORGAN] = {"organ", W_ORGAN, 0, 0, 6000, 0, 0, 0.7f, 0.005f, 0.05f, 1.0f, 0.04f,
                          0, 0, 1, 0.05f, 0, 0.1f, 6.5f, 0, 0, 0, 0.16f},
    [BM_CLASSIC_PLUCK] = {"pluck", W_SQUARE, 5, 0, 400, 3.5f, 0.6f, 1.0f, 0.002f, 0.5f, 0.0f, 0.2f,
                          0.001f, 0.25f, 0.0f, 0.2f, 0, 0, 5, 0, 0, 0, 0.30f},
};

struct voice {
    int note;             /* -1 when free */
    int key_down;
    uint32_t age;
    float vel;            /* 0..1 */
    float ph1, ph2, ph_sub, ph_mod, ph_org[4];
    float hz, hz_target;
    adsr amp, filt, fmenv;
    svf lp;
    float fade, fade_step;/* immediate note-off fade (1 = none) */
};

struct classic {
    bm_instrument base;
    struct preset p;
    int nvoices;
    float sr;
    float bend;           /* semitones */
    float mod;            /* 0..1 mod wheel */
    float bright;         /* octaves of cutoff offset from CC 74 */
    int sustain;
    uint32_t clock;
    float lfo;
    struct voice v[];
};

const char *synth_classic_preset_name(int preset)
{
    return preset >= 0 && preset < BM_NUM_CLASSIC_PRESETS ? presets[preset].name : "?";
}

int synth_classic_preset_from_name(const char *name)
{
    for (int i = 0; i < BM_NUM_CLASSIC_PRESETS; i++)
        if (!strcmp(name, presets[i].name)) return i;
    return -1;
}

void synth_denormals_off(void)
{
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
}

/* sin(2 pi p) for p in [0, 1), within about 0.1%: cheap enough for organ partials and FM. */
static inline float sin01(float p)
{
    float x = 2.0f * p - 1.0f;                 /* sin(2 pi p) = -sin(pi x) */
    float y = 4.0f * x * (1.0f - fabsf(x));
    y = 0.225f * (y * fabsf(y) - y) + y;
    return -y;
}

static void voice_setup_envelopes(struct classic *c, struct voice *v)
{
    const struct preset *p = &c->p;
    adsr_set(&v->amp, p->a, p->d, p->s, p->r, c->sr);
    adsr_set(&v->filt, p->fa, p->fd, p->fs, p->fr, c->sr);
    adsr_set(&v->fmenv, 0.001f, p->fm_decay, 0.15f, p->fm_decay, c->sr);
}

static void classic_note_on(bm_instrument *in, int note, int velocity)
{
    struct classic *c = (struct classic *)in;
    if (note < 0 || note > 127) return;
    if (velocity < 1) velocity = 1;
    if (velocity > 127) velocity = 127;
    struct voice *v = NULL;
    /* a glide instrument reuses its held voice (legato); any instrument reuses the same note */
    for (int i = 0; i < c->nvoices && !v; i++)
        if (c->v[i].note == note) v = &c->v[i];
    if (!v && c->p.glide > 0)
        for (int i = 0; i < c->nvoices && !v; i++)
            if (c->v[i].note >= 0 && c->v[i].key_down) v = &c->v[i];
    for (int i = 0; i < c->nvoices && !v; i++)
        if (c->v[i].note < 0) v = &c->v[i];
    if (!v) { /* steal: the oldest released voice, else the oldest */
        struct voice *oldest = NULL, *oldest_rel = NULL;
        for (int i = 0; i < c->nvoices; i++) {
            struct voice *w = &c->v[i];
            if (!oldest || w->age < oldest->age) oldest = w;
            if (!w->key_down && (!oldest_rel || w->age < oldest_rel->age)) oldest_rel = w;
        }
        v = oldest_rel ? oldest_rel : oldest;
    }
    int was_sounding = v->note >= 0;
    float target = midi_to_hz((float)note);
    if (!was_sounding) {
        memset(v, 0, sizeof *v);
        v->hz = target;
        v->ph2 = 0.31f; /* detuned oscillators start apart */
        voice_setup_envelopes(c, v);
    } else if (c->p.glide <= 0) {
        v->hz = target;
    }
    v->hz_target = target;
    v->note = note;
    v->key_down = 1;
    v->age = ++c->clock;
    v->vel = (float)velocity / 127.0f;
    v->fade = 1.0f;
    v->fade_step = 0;
    /* the attack rises from the current level: a retriggered or stolen voice never jumps */
    adsr_gate_on(&v->amp);
    adsr_gate_on(&v->filt);
    adsr_gate_on(&v->fmenv);
}

static void classic_note_off(bm_instrument *in, int note)
{
    struct classic *c = (struct classic *)in;
    for (int i = 0; i < c->nvoices; i++) {
        struct voice *v = &c->v[i];
        if (v->note != note || !v->key_down) continue;
        v->key_down = 0;
        if (!c->sustain) {
            adsr_gate_off(&v->amp);
            adsr_gate_off(&v->filt);
            adsr_gate_off(&v->fmenv);
        }
    }
}

static void classic_pitch_bend(bm_instrument *in, float semitones)
{
    ((struct classic *)in)->bend = semitones;
}

static void classic_control(bm_instrument *in, int cc, int value)
{
    struct classic *c = (struct classic *)in;
    if (cc == 1) c->mod = (float)value / 127.0f;
    else if (cc == 74) c->bright = ((float)value - 64.0f) / 32.0f;
    else if (cc == 64) {
        int on = value >= 64;
        if (c->sustain && !on)
            for (int i = 0; i < c->nvoices; i++)
                if (c->v[i].note >= 0 && !c->v[i].key_down) {
                    adsr_gate_off(&c->v[i].amp);
                    adsr_gate_off(&c->v[i].filt);
                }
        c->sustain = on;
    }
}

static void classic_all_notes_off(bm_instrument *in, int immediate)
{
    struct classic *c = (struct classic *)in;
    c->sustain = 0;
    for (int i = 0; i < c->nvoices; i++) {
        struct voice *v = &c->v[i];
        if (v->note < 0) continue;
        v->key_down = 0;
        adsr_gate_off(&v->amp);
        adsr_gate_off(&v->filt);
        if (immediate) v->fade_step = 1.0f / (0.005f * c->sr);
    }
}

#define CHUNK 16

static void render_voice(struct classic *c, struct voice *v, float *out, uint32_t n)
{
    const struct preset *p = &c->p;
    float sr = c->sr;
    float glide_coef = p->glide > 0 ? time_to_coef(p->glide, sr / CHUNK) : 0;
    for (uint32_t base = 0; base < n && v->note >= 0; base += CHUNK) {
        uint32_t m = n - base < CHUNK ? n - base : CHUNK;
        /* control rate: pitch, vibrato, filter cutoff */
        v->hz = v->hz_target + (v->hz - v->hz_target) * glide_coef;
        float vib = (p->vib_depth + 0.5f * c->mod) * sin01(wrap01(c->lfo));
        float hz = v->hz * exp2f((c->bend + vib * (p->vib_depth > 0 || c->mod > 0)) / 12.0f);
        float dt = hz / sr;
        if (dt > 0.45f) dt = 0.45f;
        float key = (float)(v->note - 60) / 12.0f;
        float cutoff = p->cutoff * exp2f(p->env_octaves * v->filt.level + p->keytrack * key +
                                         1.2f * (v->vel - 0.5f) + c->bright);
        svf_set(&v->lp, cutoff, p->q, sr);
        float dt2 = dt * exp2f(p->detune_cents / 1200.0f);
        float gain = p->gain * (0.25f + 0.75f * v->vel * v->vel);
        for (uint32_t i = 0; i < m; i++) {
            float s;
            switch (p->wave) {
            case W_FM: {
                float idx = p->fm_index * (0.4f + v->vel) * adsr_tick(&v->fmenv);
                float mod = sin01(v->ph_mod);
                s = sin01(wrap01(v->ph1 + idx * mod * 0.159f));
                v->ph_mod = wrap01(v->ph_mod + dt * p->fm_ratio);
                break;
            }
            case W_ORGAN: {
                static const float ratio[4] = {0.5f, 1.0f, 2.0f, 3.0f};
                static const float level[4] = {0.6f, 1.0f, 0.5f, 0.35f};
                s = 0;
                for (int k = 0; k < 4; k++) {
                    s += level[k] * sin01(v->ph_org[k]);
                    float d = dt * ratio[k];
                    if (d < 0.45f) v->ph_org[k] = wrap01(v->ph_org[k] + d);
                }
                break;
            }
            case W_SQUARE:
                s = osc_square(v->ph1, dt) + (p->detune_cents ? 0.6f * osc_square(v->ph2, dt2) : 0);
                break;
            default:
                s = osc_saw(v->ph1, dt) + (p->detune_cents ? 0.7f * osc_saw(v->ph2, dt2) : 0);
                break;
            }
            if (p->sub > 0) s += p->sub * osc_square(v->ph_sub, dt * 0.5f);
            v->ph1 += dt;
            if (v->ph1 >= 1.0f) v->ph1 -= 1.0f;
            v->ph2 += dt2;
            if (v->ph2 >= 1.0f) v->ph2 -= 1.0f;
            v->ph_sub += dt * 0.5f;
            if (v->ph_sub >= 1.0f) v->ph_sub -= 1.0f;
            float y = (p->wave == W_FM || p->wave == W_ORGAN) ? s : svf_tick(&v->lp, s, NULL, NULL);
            adsr_tick(&v->filt);
            float a = adsr_tick(&v->amp);
            if (v->fade_step > 0) {
                v->fade -= v->fade_step;
                if (v->fade <= 0) {
                    v->fade = 0;
                    v->amp.stage = ENV_IDLE;
                }
            }
            out[base + i] += y * a * gain * v->fade;
            if (v->amp.stage == ENV_IDLE) {
                v->note = -1;
                break;
            }
        }
    }
}

static void classic_render(bm_instrument *in, float *out, uint32_t n)
{
    struct classic *c = (struct classic *)in;
    for (int i = 0; i < c->nvoices; i++)
        if (c->v[i].note >= 0) render_voice(c, &c->v[i], out, n);
    c->lfo = wrap01(c->lfo + c->p.vib_rate * (float)n / c->sr);
}

static int classic_active(const bm_instrument *in)
{
    const struct classic *c = (const struct classic *)in;
    int n = 0;
    for (int i = 0; i < c->nvoices; i++) n += c->v[i].note >= 0;
    return n;
}

static void classic_set_sample_rate(bm_instrument *in, double sr)
{
    struct classic *c = (struct classic *)in;
    c->sr = (float)sr;
    for (int i = 0; i < c->nvoices; i++) {
        struct voice *v = &c->v[i];
        float level = v->amp.level, flevel = v->filt.level;
        int stage = v->amp.stage, fstage = v->filt.stage;
        voice_setup_envelopes(c, v);
        v->amp.level = level;
        v->amp.stage = stage;
        v->filt.level = flevel;
        v->filt.stage = fstage;
    }
}

static void classic_destroy(bm_instrument *in) { free(in); }

static const bm_instrument_ops classic_ops = {
    "classic", classic_note_on, classic_note_off, classic_pitch_bend, classic_control,
    classic_all_notes_off, classic_render, classic_active, classic_set_sample_rate, classic_destroy, NULL,
};

bm_instrument *synth_classic_create(int preset, int voices, double sample_rate)
{
    if (preset < 0 || preset >= BM_NUM_CLASSIC_PRESETS) return NULL;
    if (voices < 1) voices = 1;
    if (voices > 64) voices = 64;
    struct classic *c = calloc(1, sizeof *c + (size_t)voices * sizeof(struct voice));
    if (!c) return NULL;
    c->base.ops = &classic_ops;
    snprintf(c->base.name, sizeof c->base.name, "classic:%s", presets[preset].name);
    c->p = presets[preset];
    c->nvoices = voices;
    c->sr = (float)(sample_rate > 0 ? sample_rate : 48000);
    for (int i = 0; i < voices; i++) c->v[i].note = -1;
    return &c->base;
}

void instrument_destroy(bm_instrument *in)
{
    if (in) in->ops->destroy(in);
}
