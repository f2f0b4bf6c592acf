/* synth_neural.c: the neural instrument (synth_neural.h). */
#include "engine/voice/synth_neural.h"
#include "engine/synth_util.h"
#include "engine/voice/osc_bank.h"
#include "nn/nn_mem.h"
#include "nn/nn_stream.h"

#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NV8 (VOICE_HARMONICS / 8)
#define CHUNK 256             /* most samples the oscillators render at once */
#define ATTACK_S 0.004f       /* raised-cosine fade-in of every note */
#define FADE_S 0.005f         /* fade-out of a stolen or stopped note */
#define NOISE_MAX 2048        /* largest noise FFT (192 kHz) */
#define END_RANGE_DB 80.0f    /* a released note ends this far below its loudest */

enum { V_FREE = 0, V_ON, V_RELEASED, V_FADING };

typedef struct nvoice {
    osc_v8 amp[NV8], damp[NV8], cs[NV8], sn[NV8], rc[NV8], rs[NV8];
    float *state;            /* the decoder's recurrent state */
    int stage, note, velocity, key_down, sustained;
    unsigned age;
    long long since_on;      /* samples */
    long long since_off;
    float off_db;            /* loudness at note-off */
    float loud_db, peak_db;  /* loudness of the last frame, loudest so far */
    float f0;                /* of the phasors' rotation */
    float attack, fade, fade_step;
    float noise_pow[VOICE_BANDS]; /* band powers of the last frame, linear, with the output gain */
    int fresh;               /* started since the last frame: its first frame is not ramped */
} nvoice;

struct neural {
    bm_instrument base;
    /* voices and morph */
    voice_def src[4];
    int nsrc;
    voice_def cur;           /* the blend in force */
    float morph_x, morph_y;
    int morph_dirty;
    int cc_msb[2], cc_lsb[2];
    /* decoder */
    nn_stream *stream;
    int zdim;
    int max_batch;
    float *xin, *yout;       /* [max_batch, ...] */
    float **states;          /* per batch row */
    int *rows;               /* voice index per batch row */
    /* notes */
    int poly, nslots;
    nvoice *v;
    unsigned clock;
    float bend, mod, gain;
    int sustain;
    float sr;
    int period;              /* samples per frame */
    int to_tick;             /* samples until the next frame */
    float vib_phase;
    osc_bank_fn osc;
    osc_v8 *acc;
    float env[CHUNK];
    /* noise */
    int nfft, hop, nbins;
    float *nbuf;             /* c2r output */
    fftwf_complex *nspec;
    fftwf_plan plans[4];     /* 256, 512, 1024, 2048 */
    float win[NOISE_MAX];
    float ola[NOISE_MAX];
    float fifo[NOISE_MAX];
    int fifo_n, fifo_pos;
    float band_pow[VOICE_BANDS]; /* summed over notes, linear */
    int nb_lo[NOISE_MAX / 2 + 1];
    float nb_pos[NOISE_MAX / 2 + 1];
    float band_width[VOICE_BANDS];
    uint32_t rng;
    int noise_silent;        /* blocks of silence produced in a row */
    float noise_gain, noise_fade_step; /* a panic fades the noise out too, then drops its tail */
    /* timing */
    int timing;
    long long net_ns, render_ns, steps;
};

static const bm_instrument_ops neural_ops;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* ---- morph ---- */

static void reblend(struct neural *s)
{
    float w[4] = {1, 0, 0, 0}, x = s->morph_x, y = s->morph_y;
    if (s->nsrc == 2) {
        w[0] = 1 - x;
        w[1] = x;
    } else if (s->nsrc == 3) {
        w[0] = (1 - x) * (1 - y);
        w[1] = x * (1 - y);
        w[2] = y;
    } else if (s->nsrc == 4) {
        w[0] = (1 - x) * (1 - y);
        w[1] = x * (1 - y);
        w[2] = (1 - x) * y;
        w[3] = x * y;
    }
    const voice_def *v[4] = {&s->src[0], &s->src[1], &s->src[2], &s->src[3]};
    if (s->nsrc == 1) s->cur = s->src[0];
    else voice_def_blend(v, w, s->nsrc, &s->cur);
    s->morph_dirty = 0;
}

static float clamp01(float x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

/* ---- noise ---- */

static void noise_setup(struct neural *s)
{
    int want = (int)(s->sr / 94.0f), n = 256, idx = 0;
    while (n < want && n < NOISE_MAX) {
        n *= 2;
        idx++;
    }
    s->nfft = n;
    s->hop = n / 4;
    s->nbins = n / 2 + 1;
    (void)idx;
    for (int i = 0; i < n; i++) s->win[i] = sinf((float)M_PI * ((float)i + 0.5f) / (float)n) / sqrtf(2.0f);
    /* each bin's power density, interpolated linearly between the band centres */
    double centre[VOICE_BANDS];
    for (int b = 0; b < VOICE_BANDS; b++) centre[b] = voice_band_centre(b);
    const double *e = voice_band_edges();
    double df = s->sr / n;
    for (int k = 0; k < s->nbins; k++) {
        double f = k * df;
        int b = 0;
        while (b < VOICE_BANDS - 1 && centre[b + 1] <= f) b++;
        s->nb_lo[k] = k == 0 || k == n / 2 || f >= e[VOICE_BANDS] ? -1 : b;
        s->nb_pos[k] = f <= centre[0] || b == VOICE_BANDS - 1 ? 0.0f : (float)((f - centre[b]) / (centre[b + 1] - centre[b]));
    }
    memset(s->ola, 0, sizeof s->ola);
    s->fifo_n = s->fifo_pos = 0;
}

static int plan_index(int n)
{
    int i = 0;
    while ((256 << i) < n) i++;
    return i;
}

/* One more hop of noise into the fifo. */
static void noise_block(struct neural *s)
{
    int n = s->nfft, hop = s->hop;
    float total = 0;
    for (int b = 0; b < VOICE_BANDS; b++) total += s->band_pow[b];
    if (total > 1e-14f) {
        s->noise_silent = 0;
        float dens[VOICE_BANDS];
        for (int b = 0; b < VOICE_BANDS; b++) dens[b] = s->band_pow[b] / s->band_width[b];
        float df = s->sr / (float)n;
        for (int k = 0; k < s->nbins; k++) {
            int b = s->nb_lo[k];
            float p = 0;
            if (b >= 0) p = (b + 1 < VOICE_BANDS ? dens[b] + s->nb_pos[k] * (dens[b + 1] - dens[b]) : dens[b]) * df;
            /* complex Gaussian-like bins (sums of uniforms) of mean power p: random phase and level */
            float sd = sqrtf(0.5f * p) * 1.2247449f; /* the sum of two uniforms in [-1,1) has variance 2/3 */
            float r1 = (float)(int32_t)xorshift(&s->rng) * (1.0f / 2147483648.0f);
            float r2 = (float)(int32_t)xorshift(&s->rng) * (1.0f / 2147483648.0f);
            float r3 = (float)(int32_t)xorshift(&s->rng) * (1.0f / 2147483648.0f);
            float r4 = (float)(int32_t)xorshift(&s->rng) * (1.0f / 2147483648.0f);
            s->nspec[k][0] = sd * 0.70710678f * (r1 + r2);
            s->nspec[k][1] = sd * 0.70710678f * (r3 + r4);
        }
        s->nspec[0][1] = s->nspec[s->nbins - 1][1] = 0;
        fftwf_execute(s->plans[plan_index(n)]);
        for (int i = 0; i < n; i++) s->ola[i] += s->nbuf[i] * s->win[i];
    } else if (s->noise_silent < 8) {
        s->noise_silent++;
    }
    for (int i = 0; i < hop; i++) s->fifo[i] = s->ola[i];
    memmove(s->ola, s->ola + hop, sizeof(float) * (size_t)(n - hop));
    memset(s->ola + n - hop, 0, sizeof(float) * (size_t)hop);
    s->fifo_n = hop;
    s->fifo_pos = 0;
}

static void noise_render(struct neural *s, float *out, int m)
{
    if (s->noise_fade_step > 0) {
        for (int i = 0; i < m; i++) {
            float g = s->noise_gain;
            if (s->fifo_pos >= s->fifo_n) noise_block(s);
            out[i] += g * s->fifo[s->fifo_pos++];
            s->noise_gain = g - s->noise_fade_step;
            if (s->noise_gain <= 0) { /* the tail is dropped; noise starts afresh */
                memset(s->ola, 0, sizeof s->ola);
                s->fifo_n = s->fifo_pos = 0;
                s->noise_gain = 1.0f;
                s->noise_fade_step = 0;
                s->noise_silent = 8;
                return;
            }
        }
        return;
    }
    while (m > 0) {
        if (s->fifo_pos >= s->fifo_n) {
            if (s->noise_silent >= 8) { /* nothing sounding and the tail is out: skip the FFTs */
                float total = 0;
                for (int b = 0; b < VOICE_BANDS; b++) total += s->band_pow[b];
                if (total <= 1e-14f) return;
            }
            noise_block(s);
        }
        int k = s->fifo_n - s->fifo_pos < m ? s->fifo_n - s->fifo_pos : m;
        for (int i = 0; i < k; i++) out[i] += s->fifo[s->fifo_pos + i];
        s->fifo_pos += k;
        out += k;
        m -= k;
    }
}

/* ---- notes ---- */

static float note_f0(const struct neural *s, const nvoice *v)
{
    float vib = s->mod > 0 ? 0.25f * s->mod * sinf(s->vib_phase) : 0.0f;
    return midi_to_hz((float)v->note + s->bend + vib);
}

/* Sets the phasors' rotation for a new f0 (harmonics above the limit silenced). */
static void set_rotation(struct neural *s, nvoice *v, float f0)
{
    v->f0 = f0;
    double w = 2.0 * M_PI * f0 / s->sr, c1 = cos(w), s1 = sin(w), c = c1, sn = s1;
    for (int h = 0; h < VOICE_HARMONICS; h++) {
        v->rc[h / 8][h % 8] = (float)c;
        v->rs[h / 8][h % 8] = (float)sn;
        double c2 = c * c1 - sn * s1;
        sn = c * s1 + sn * c1;
        c = c2;
    }
}

/* The loudness a note asks the decoder for now. */
static float note_loudness(const struct neural *s, const nvoice *v)
{
    int k = (int)(v->since_on / s->period);
    float pitch = (float)v->note + s->bend;
    if (v->stage == V_ON || (v->stage == V_FADING && v->since_off < 0)) return voice_def_hold_db(&s->cur, v->velocity, pitch, k);
    int ko = (int)(v->since_off / s->period);
    if (ko >= VOICE_ENV_RELEASE) return VOICE_FLOOR_DB;
    int l = 0;
    while (l + 2 < VOICE_ENV_LAYERS && v->velocity > voice_env_velocity[l + 1]) l++;
    float f = clamp01((float)(v->velocity - voice_env_velocity[l]) / (float)(voice_env_velocity[l + 1] - voice_env_velocity[l]));
    float r = s->cur.release_db[l][ko] + f * (s->cur.release_db[l + 1][ko] - s->cur.release_db[l][ko]);
    float db = v->off_db + r;
    return db < VOICE_FLOOR_DB ? VOICE_FLOOR_DB : db;
}

static void start_fade(struct neural *s, nvoice *v)
{
    if (v->stage == V_FREE || v->stage == V_FADING) return;
    if (v->stage == V_ON) v->since_off = -1;
    v->stage = V_FADING;
    v->fade_step = 1.0f / (FADE_S * s->sr);
}

static void free_voice(nvoice *v)
{
    v->stage = V_FREE;
    v->note = -1;
    memset(v->amp, 0, sizeof v->amp);
    memset(v->damp, 0, sizeof v->damp);
    memset(v->noise_pow, 0, sizeof v->noise_pow);
}

/* Steps the decoder for the voices listed in rows[0..n) and sets their next targets: ramped over
 * a frame, or at once for a fresh note (its fade-in is the ramp). */
static void decode(struct neural *s, int n)
{
    if (!n) return;
    int Z = s->zdim, Din = Z + VOICE_DEC_COND;
    for (int r = 0; r < n; r++) {
        nvoice *v = &s->v[s->rows[r]];
        float *x = s->xin + (size_t)r * Din;
        float pitch = (float)v->note + s->bend;
        voice_def_z(&s->cur, pitch, x);
        float f0 = note_f0(s, v);
        if (fabsf(f0 - v->f0) > 1e-4f * f0) set_rotation(s, v, f0);
        v->loud_db = note_loudness(s, v);
        if (v->loud_db > v->peak_db) v->peak_db = v->loud_db;
        voice_dec_cond(f0, v->loud_db, (float)v->since_on / s->sr, x + Z);
        s->states[r] = v->state;
    }
    long long t0 = s->timing ? now_ns() : 0;
    nn_stream_step(s->stream, n, s->states, NULL, s->xin, s->yout);
    if (s->timing) {
        s->net_ns += now_ns() - t0;
        s->steps++;
    }
    float g = exp10f(s->cur.gain_db / 20.0f) * s->gain;
    int isr = (int)lrintf(s->sr);
    for (int r = 0; r < n; r++) {
        nvoice *v = &s->v[s->rows[r]];
        voice_frame fr;
        voice_model_output_to_frame(s->yout + (size_t)r * VOICE_DEC_OUT, v->f0, v->loud_db, 0, isr, &fr);
        int silent = v->loud_db <= VOICE_FLOOR_DB + 1.0f;
        for (int h = 0; h < VOICE_HARMONICS; h++) {
            float target = silent ? 0.0f : fr.harm[h] * g;
            float *a = &v->amp[h / 8][h % 8];
            if (v->fresh) {
                *a = target;
                v->damp[h / 8][h % 8] = 0;
            } else {
                v->damp[h / 8][h % 8] = (target - *a) / (float)s->period;
            }
        }
        for (int b = 0; b < VOICE_BANDS; b++)
            v->noise_pow[b] = silent || fr.noise_db[b] <= VOICE_FLOOR_DB ? 0.0f : exp10f(fr.noise_db[b] / 10.0f) * g * g;
        v->fresh = 0;
    }
}

/* A frame boundary: every sounding note steps the decoder once, together. */
static void tick(struct neural *s)
{
    if (s->morph_dirty) reblend(s);
    s->vib_phase += 2.0f * (float)M_PI * 5.5f * (float)s->period / s->sr;
    if (s->vib_phase > 2.0f * (float)M_PI) s->vib_phase -= 2.0f * (float)M_PI;
    int n = 0;
    for (int i = 0; i < s->nslots; i++) {
        nvoice *v = &s->v[i];
        if (v->stage == V_FREE) continue;
        /* a released note ends when its contour does or it has fallen far enough */
        if (v->stage == V_RELEASED) {
            float l = note_loudness(s, v);
            if (l <= VOICE_FLOOR_DB + 1.0f || l < v->peak_db - END_RANGE_DB) start_fade(s, v);
        } else if (v->stage == V_ON && note_loudness(s, v) < v->peak_db - END_RANGE_DB) {
            start_fade(s, v); /* a decaying note held long enough to die away */
        }
        s->rows[n++] = i;
    }
    decode(s, n);
    memset(s->band_pow, 0, sizeof s->band_pow);
    for (int r = 0; r < n; r++) {
        nvoice *v = &s->v[s->rows[r]];
        float f = v->stage == V_FADING ? v->fade * v->fade : 1.0f;
        for (int b = 0; b < VOICE_BANDS; b++) s->band_pow[b] += f * v->noise_pow[b];
    }
}

/* Renders every sounding note for m samples (m <= CHUNK, within one frame). */
static void render_chunk(struct neural *s, float *out, int m)
{
    for (int i = 0; i < s->nslots; i++) {
        nvoice *v = &s->v[i];
        if (v->stage == V_FREE) continue;
        int end = m;
        for (int k = 0; k < m; k++) {
            float e = 1.0f;
            if (v->attack < 1.0f) {
                v->attack += 1.0f / (ATTACK_S * s->sr);
                if (v->attack > 1.0f) v->attack = 1.0f;
                e = 0.5f - 0.5f * cosf((float)M_PI * v->attack);
            }
            if (v->stage == V_FADING) {
                v->fade -= v->fade_step;
                if (v->fade <= 0) {
                    v->fade = 0;
                    end = k;
                    s->env[k] = 0;
                    break;
                }
                e *= v->fade;
            }
            s->env[k] = e;
        }
        int nvec = (int)((s->sr * 0.5f / (v->f0 > 1 ? v->f0 : 1) + 7) / 8);
        if (nvec > NV8) nvec = NV8;
        if (nvec < 1) nvec = 1;
        if (end > 0) s->osc(out, s->env, end, nvec, s->acc, v->amp, v->damp, v->cs, v->sn, v->rc, v->rs);
        v->since_on += m;
        if (v->stage != V_ON && v->since_off >= 0) v->since_off += m;
        if (end < m) free_voice(v);
    }
    noise_render(s, out, m);
}

/* Renormalises the phasors (float rotation drifts slowly in magnitude). */
static void renormalise(nvoice *v)
{
    for (int k = 0; k < NV8; k++) {
        osc_v8 m2 = v->cs[k] * v->cs[k] + v->sn[k] * v->sn[k];
        osc_v8 g = 1.5f - 0.5f * m2;
        v->cs[k] *= g;
        v->sn[k] *= g;
    }
}

static void neural_render(bm_instrument *in, float *out, uint32_t nframes)
{
    struct neural *s = (struct neural *)in;
    long long t0 = s->timing ? now_ns() : 0;
    uint32_t done = 0;
    while (done < nframes) {
        if (s->to_tick <= 0) {
            tick(s);
            for (int i = 0; i < s->nslots; i++)
                if (s->v[i].stage != V_FREE) renormalise(&s->v[i]);
            s->to_tick = s->period;
        }
        int m = (int)(nframes - done);
        if (m > s->to_tick) m = s->to_tick;
        if (m > CHUNK) m = CHUNK;
        render_chunk(s, out + done, m);
        s->to_tick -= m;
        done += (uint32_t)m;
    }
    if (s->timing) s->render_ns += now_ns() - t0;
}

static nvoice *grab_slot(struct neural *s)
{
    int playing = 0;
    for (int i = 0; i < s->nslots; i++) playing += s->v[i].stage == V_ON || s->v[i].stage == V_RELEASED;
    if (playing >= s->poly) { /* steal: the oldest released note, else the oldest */
        nvoice *old = NULL, *old_rel = NULL;
        for (int i = 0; i < s->nslots; i++) {
            nvoice *w = &s->v[i];
            if (w->stage != V_ON && w->stage != V_RELEASED) continue;
            if (!old || w->age < old->age) old = w;
            if (w->stage == V_RELEASED && (!old_rel || w->age < old_rel->age)) old_rel = w;
        }
        start_fade(s, old_rel ? old_rel : old);
    }
    for (int i = 0; i < s->nslots; i++)
        if (s->v[i].stage == V_FREE) return &s->v[i];
    /* every spare slot still fading: the quietest gives way at once */
    nvoice *q = NULL;
    for (int i = 0; i < s->nslots; i++)
        if (s->v[i].stage == V_FADING && (!q || s->v[i].fade < q->fade)) q = &s->v[i];
    if (!q) q = &s->v[0];
    free_voice(q);
    return q;
}

static void neural_note_on(bm_instrument *in, int note, int velocity)
{
    struct neural *s = (struct neural *)in;
    if (note < 0 || note > 127) return;
    if (velocity < 1) velocity = 1;
    if (velocity > 127) velocity = 127;
    /* the same key again: the sounding note fades as the new one starts */
    for (int i = 0; i < s->nslots; i++)
        if (s->v[i].note == note && (s->v[i].stage == V_ON || s->v[i].stage == V_RELEASED)) start_fade(s, &s->v[i]);
    if (s->morph_dirty) reblend(s);
    nvoice *v = grab_slot(s);
    float *state = v->state;
    memset(v, 0, sizeof *v);
    v->state = state;
    nn_stream_state_reset(s->stream, v->state);
    v->stage = V_ON;
    v->note = note;
    v->velocity = velocity;
    v->key_down = 1;
    v->age = ++s->clock;
    v->peak_db = VOICE_FLOOR_DB;
    v->fade = 1.0f;
    v->attack = 0.0f;
    v->fresh = 1;
    v->since_off = -1;
    for (int k = 0; k < NV8; k++) {
        v->cs[k] = (osc_v8){1, 1, 1, 1, 1, 1, 1, 1};
        v->sn[k] = (osc_v8){0};
    }
    set_rotation(s, v, note_f0(s, v));
    if (s->noise_fade_step > 0) { /* a note after a panic: its noise starts afresh */
        memset(s->ola, 0, sizeof s->ola);
        s->fifo_n = s->fifo_pos = 0;
        s->noise_gain = 1.0f;
        s->noise_fade_step = 0;
    }
    /* its first frame now, at the note-on sample */
    s->rows[0] = (int)(v - s->v);
    decode(s, 1);
    for (int b = 0; b < VOICE_BANDS; b++) s->band_pow[b] += v->noise_pow[b];
}

static void release(struct neural *s, nvoice *v)
{
    v->off_db = v->loud_db;
    v->stage = V_RELEASED;
    v->since_off = 0;
}

static void neural_note_off(bm_instrument *in, int note)
{
    struct neural *s = (struct neural *)in;
    for (int i = 0; i < s->nslots; i++) {
        nvoice *v = &s->v[i];
        if (v->note != note || v->stage != V_ON || !v->key_down) continue;
        v->key_down = 0;
        if (s->sustain) v->sustained = 1;
        else release(s, v);
    }
}

static void neural_pitch_bend(bm_instrument *in, float semitones)
{
    struct neural *s = (struct neural *)in;
    s->bend = semitones < -48 ? -48 : semitones > 48 ? 48 : semitones;
}

static void neural_set_param(bm_instrument *in, int param, float value)
{
    struct neural *s = (struct neural *)in;
    if (!(value == value)) return; /* NaN */
    if (param == BM_SYNTH_MORPH_X) {
        s->morph_x = clamp01(value);
        s->morph_dirty = s->nsrc > 1;
    } else if (param == BM_SYNTH_MORPH_Y) {
        s->morph_y = clamp01(value);
        s->morph_dirty = s->nsrc > 1;
    } else if (param == BM_SYNTH_GAIN) {
        s->gain = value < 0 ? 0 : value > 16 ? 16 : value;
    }
}

static void neural_control(bm_instrument *in, int cc, int value)
{
    struct neural *s = (struct neural *)in;
    if (value < 0) value = 0;
    if (value > 127) value = 127;
    if (cc == 1) s->mod = (float)value / 127.0f;
    else if (cc == 64) {
        int on = value >= 64;
        if (s->sustain && !on)
            for (int i = 0; i < s->nslots; i++)
                if (s->v[i].stage == V_ON && s->v[i].sustained) release(s, &s->v[i]);
        s->sustain = on;
    } else if (cc == 16 || cc == 17 || cc == 48 || cc == 49) {
        /* morph position: 14-bit as MSB (16, 17) + LSB (48, 49); an MSB alone clears the LSB */
        int axis = cc % 16 == 0 ? 0 : 1;
        if (cc < 32) {
            s->cc_msb[axis] = value;
            s->cc_lsb[axis] = 0;
        } else {
            s->cc_lsb[axis] = value;
        }
        float v = (float)(s->cc_msb[axis] * 128 + s->cc_lsb[axis]) / 16256.0f;
        neural_set_param(in, axis ? BM_SYNTH_MORPH_Y : BM_SYNTH_MORPH_X, v);
    }
}

static void neural_all_notes_off(bm_instrument *in, int immediate)
{
    struct neural *s = (struct neural *)in;
    s->sustain = 0;
    if (immediate) s->noise_fade_step = 1.0f / (FADE_S * s->sr);
    for (int i = 0; i < s->nslots; i++) {
        nvoice *v = &s->v[i];
        if (v->stage == V_FREE) continue;
        v->key_down = 0;
        if (immediate) start_fade(s, v);
        else if (v->stage == V_ON) release(s, v);
    }
}

static int neural_active(const bm_instrument *in)
{
    const struct neural *s = (const struct neural *)in;
    int n = 0;
    for (int i = 0; i < s->nslots; i++) n += s->v[i].stage != V_FREE;
    return n;
}

static void neural_set_sample_rate(bm_instrument *in, double sr)
{
    struct neural *s = (struct neural *)in;
    float r = (float)(sr >= 8000 && sr <= 384000 ? sr : 48000);
    if (r == s->sr) return;
    s->sr = r;
    s->period = (int)lrintf(r / VOICE_FRAME_RATE);
    if (s->to_tick > s->period) s->to_tick = s->period;
    noise_setup(s);
    for (int i = 0; i < s->nslots; i++)
        if (s->v[i].stage != V_FREE) set_rotation(s, &s->v[i], note_f0(s, &s->v[i]));
}

static void neural_destroy(bm_instrument *in)
{
    struct neural *s = (struct neural *)in;
    if (!s) return;
    for (int i = 0; i < 4; i++)
        if (s->plans[i]) fftwf_destroy_plan(s->plans[i]);
    fftwf_free(s->nbuf);
    fftwf_free(s->nspec);
    if (s->v)
        for (int i = 0; i < s->nslots; i++) nn_free(s->v[i].state);
    nn_free(s->v);
    nn_free(s->xin);
    nn_free(s->yout);
    nn_free(s->states);
    nn_free(s->rows);
    nn_free(s->acc);
    nn_stream_free(s->stream);
    nn_free(s);
}

static const bm_instrument_ops neural_ops = {
    .kind = "neural",
    .note_on = neural_note_on,
    .note_off = neural_note_off,
    .pitch_bend = neural_pitch_bend,
    .control = neural_control,
    .all_notes_off = neural_all_notes_off,
    .render = neural_render,
    .active_voices = neural_active,
    .set_sample_rate = neural_set_sample_rate,
    .destroy = neural_destroy,
    .set_param = neural_set_param,
};

int synth_neural_is(const bm_instrument *in) { return in && in->ops == &neural_ops; }

bm_instrument *synth_neural_create(const voice_model *vm, const voice_def *const *voices, int n, int polyphony,
                                   double sample_rate, char *err, size_t errlen)
{
    if (n < 1 || n > 4) {
        snprintf(err, errlen, "a voice morphs between 2, 3 or 4 voices, not %d", n);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (voices[i]->zdim != vm->cfg.zdim) {
            snprintf(err, errlen, "the voice %s does not fit the decoder (its latent has %d dimensions, the decoder's %d)",
                     voices[i]->name, voices[i]->zdim, vm->cfg.zdim);
            return NULL;
        }
    struct neural *s = nn_alloc(sizeof *s);
    if (!s) goto oom;
    s->base.ops = &neural_ops;
    voice_model_tables_init();
    s->nsrc = n;
    for (int i = 0; i < n; i++) s->src[i] = *voices[i];
    if (n == 1) snprintf(s->base.name, sizeof s->base.name, "voice:%s", voices[0]->name);
    else snprintf(s->base.name, sizeof s->base.name, "voice:%s..%s", voices[0]->name, voices[n - 1]->name);
    s->morph_dirty = 1;
    reblend(s);
    s->poly = polyphony < 1 ? 1 : polyphony > SYNTH_NEURAL_MAX_VOICES ? SYNTH_NEURAL_MAX_VOICES : polyphony;
    s->nslots = s->poly + SYNTH_NEURAL_SPARE;
    s->max_batch = s->nslots;
    s->zdim = vm->cfg.zdim;
    nn_stream_desc d;
    voice_model_stream_desc(vm, s->max_batch, &d);
    char why[256];
    s->stream = nn_stream_create(&d, vm->m, why, sizeof why);
    if (!s->stream) {
        snprintf(err, errlen, "the decoder cannot run: %s", why);
        neural_destroy(&s->base);
        return NULL;
    }
    s->xin = nn_alloc_array((size_t)s->max_batch * (s->zdim + VOICE_DEC_COND), sizeof(float));
    s->yout = nn_alloc_array((size_t)s->max_batch * VOICE_DEC_OUT, sizeof(float));
    s->states = nn_alloc_array((size_t)s->max_batch, sizeof(float *));
    s->rows = nn_alloc_array((size_t)s->max_batch, sizeof(int));
    s->acc = nn_alloc_array(CHUNK, sizeof(osc_v8));
    s->v = nn_alloc_array((size_t)s->nslots, sizeof(nvoice));
    if (!s->xin || !s->yout || !s->states || !s->rows || !s->acc || !s->v) goto oom;
    for (int i = 0; i < s->nslots; i++) {
        s->v[i].state = nn_alloc_array(nn_stream_state_size(s->stream), sizeof(float));
        if (!s->v[i].state) goto oom;
        free_voice(&s->v[i]);
    }
    s->nbuf = fftwf_malloc(sizeof(float) * NOISE_MAX);
    s->nspec = fftwf_malloc(sizeof(fftwf_complex) * (NOISE_MAX / 2 + 1));
    if (!s->nbuf || !s->nspec) goto oom;
    for (int i = 0; i < 4; i++) {
        s->plans[i] = fftwf_plan_dft_c2r_1d(256 << i, s->nspec, s->nbuf, FFTW_ESTIMATE);
        if (!s->plans[i]) goto oom;
    }
    const double *e = voice_band_edges();
    for (int b = 0; b < VOICE_BANDS; b++) s->band_width[b] = (float)(e[b + 1] - e[b]);
    s->rng = 0x2545f491u;
    s->gain = 1.0f;
    s->noise_gain = 1.0f;
    s->osc = osc_bank_best();
    s->sr = 0;
    neural_set_sample_rate(&s->base, sample_rate > 0 ? sample_rate : 48000);
    s->to_tick = 0;
    s->noise_silent = 8;
    return &s->base;
oom:
    snprintf(err, errlen, "out of memory for a neural instrument");
    if (s) neural_destroy(&s->base);
    return NULL;
}

void synth_neural_timing(const bm_instrument *in, long long *net_ns, long long *render_ns, long long *steps)
{
    const struct neural *s = (const struct neural *)in;
    if (net_ns) *net_ns = s->net_ns;
    if (render_ns) *render_ns = s->render_ns;
    if (steps) *steps = s->steps;
}

void synth_neural_set_timing(bm_instrument *in, int on) { ((struct neural *)in)->timing = on; }

const char *synth_neural_kernel(const bm_instrument *in) { return osc_bank_name(((const struct neural *)in)->osc); }
