/* synth_util.h: small DSP building blocks shared by the instruments (inline, real-time safe). */
#pragma once

#include <math.h>
#include <stdint.h>

#define BM_TWO_PI 6.283185307179586f

static inline float midi_to_hz(float note) { return 440.0f * exp2f((note - 69.0f) / 12.0f); }

/* PolyBLEP residual for a unit step at phase 0 of a phase t in [0,1) advancing by dt per sample. */
static inline float polyblep(float t, float dt)
{
    if (t < dt) {
        float x = t / dt;
        return x + x - x * x - 1.0f;
    }
    if (t > 1.0f - dt) {
        float x = (t - 1.0f) / dt;
        return x * x + x + x + 1.0f;
    }
    return 0.0f;
}

static inline float osc_saw(float t, float dt) { return 2.0f * t - 1.0f - polyblep(t, dt); }

static inline float osc_square(float t, float dt)
{
    float t2 = t + 0.5f;
    if (t2 >= 1.0f) t2 -= 1.0f;
    return (t < 0.5f ? 1.0f : -1.0f) + polyblep(t, dt) - polyblep(t2, dt);
}

static inline float wrap01(float t) { return t - floorf(t); }

/* xorshift32 white noise in [-1, 1). */
static inline float noise_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return (float)(int32_t)x * (1.0f / 2147483648.0f);
}

/* Topology-preserving state-variable filter (trapezoidal integration): stable under fast
 * modulation of cutoff and resonance. */
typedef struct svf {
    float ic1, ic2;
    float g, k, a1, a2, a3;
} svf;

static inline void svf_set(svf *f, float cutoff_hz, float q, float sample_rate)
{
    float nyq = 0.49f * sample_rate;
    if (cutoff_hz < 10.0f) cutoff_hz = 10.0f;
    if (cutoff_hz > nyq) cutoff_hz = nyq;
    f->g = tanf(3.14159265f * cutoff_hz / sample_rate);
    f->k = 1.0f / (q > 0.3f ? q : 0.3f);
    f->a1 = 1.0f / (1.0f + f->g * (f->g + f->k));
    f->a2 = f->g * f->a1;
    f->a3 = f->g * f->a2;
}

/* One sample through the filter; returns low-pass, writes band-pass and high-pass if asked. */
static inline float svf_tick(svf *f, float v0, float *bp, float *hp)
{
    float v3 = v0 - f->ic2;
    float v1 = f->a1 * f->ic1 + f->a2 * v3;
    float v2 = f->ic2 + f->a2 * f->ic1 + f->a3 * v3;
    f->ic1 = 2.0f * v1 - f->ic1;
    f->ic2 = 2.0f * v2 - f->ic2;
    if (bp) *bp = v1;
    if (hp) *hp = v0 - f->k * v1 - v2;
    return v2;
}

/* An ADSR envelope: linear attack from the current level (so retriggers never jump), exponential
 * decay and release. */
enum { ENV_IDLE = 0, ENV_ATTACK, ENV_DECAY, ENV_SUSTAIN, ENV_RELEASE };

typedef struct adsr {
    float level;
    int stage;
    float attack_step;          /* per sample */
    float decay_coef, release_coef, sustain;
} adsr;

static inline float time_to_coef(float seconds, float sample_rate)
{
    /* reaches 1/e^4.6 (-40 dB of the distance) in the given time */
    if (seconds < 1e-4f) seconds = 1e-4f;
    return expf(-4.6f / (seconds * sample_rate));
}

static inline void adsr_set(adsr *e, float a, float d, float s, float r, float sample_rate)
{
    if (a < 0.002f) a = 0.002f; /* no click on note on */
    if (r < 0.005f) r = 0.005f; /* nor on note off */
    e->attack_step = 1.0f / (a * sample_rate);
    e->decay_coef = time_to_coef(d, sample_rate);
    e->release_coef = time_to_coef(r, sample_rate);
    e->sustain = s;
}

static inline void adsr_gate_on(adsr *e) { e->stage = ENV_ATTACK; }

static inline void adsr_gate_off(adsr *e)
{
    if (e->stage != ENV_IDLE) e->stage = ENV_RELEASE;
}

static inline float adsr_tick(adsr *e)
{
    switch (e->stage) {
    case ENV_ATTACK:
        e->level += e->attack_step;
        if (e->level >= 1.0f) {
            e->level = 1.0f;
            e->stage = ENV_DECAY;
        }
        break;
    case ENV_DECAY:
        e->level = e->sustain + (e->level - e->sustain) * e->decay_coef;
        if (e->level - e->sustain < 1e-4f) e->stage = e->sustain > 0 ? ENV_SUSTAIN : ENV_RELEASE;
        break;
    case ENV_SUSTAIN:
        e->level = e->sustain;
        break;
    case ENV_RELEASE:
        e->level *= e->release_coef;
        if (e->level < 1e-4f) {
            e->level = 0;
            e->stage = ENV_IDLE;
        }
        break;
    default:
        e->level = 0;
    }
    return e->level;
}
