/* audio_notes.c: pitch and onsets to notes, with latency compensation. */
#include "engine/listen/audio_notes.h"
#include "engine/util.h"

#include <aubio/aubio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ENV_STEP 16          /* frames per envelope value */
#define ENV_N 1024           /* envelope history (16384 frames) */
#define HIST_N 64            /* hops of history */
#define STABLE_HOPS 3        /* consistent hops to confirm a note */
#define STABLE_SPREAD 0.25f  /* semitones they may spread over (a scoop into a note spreads more) */
#define QUIET_HOPS 2         /* hops under the gate to end a note */
#define UNVOICED_HOPS 12     /* hops without a pitch to end a note that is still loud */
#define REATTACK_RATIO 2.5f  /* a re-struck note rises at least this much from its dip */
#define RELABEL_S 0.15       /* a note's pitch may still be corrected this long after its start ... */
#define RELABEL_HELD 8       /* ... unless it was held steady this many hops (a legato line) */
#define LEGATO_LAG 0.9       /* windows from a legato change to the flip of the pitch estimate */

struct hop_info {
    int64_t end;
    float db, midi, conf;
    int valid, onset;
};

struct bm_audio_notes {
    bm_audio_notes_config cfg;
    uint32_t hop, win;
    aubio_pitch_t *pitch;
    aubio_onset_t *onset;
    aubio_fft_t *fft[2];      /* for the octave check: the whole window, and its newer half */
    fvec_t *hopbuf, *pout, *oout, *frame_buf[2];
    cvec_t *spec[2];
    float *hann[2];
    float *ring;              /* the last win samples, ring_pos the oldest */
    uint32_t ring_pos;
    uint32_t fill;
    int64_t next_frame;       /* the frame expected next */
    int started;
    int use_conf;
    float gate;               /* silence_db as amplitude */
    /* envelope: peak of each ENV_STEP frames, env[(pos / ENV_STEP) % ENV_N] */
    float env[ENV_N];
    float env_acc;
    uint32_t env_count;
    int64_t env_end;          /* frame just after the last complete envelope value */
    struct hop_info hist[HIST_N];
    uint64_t nhops;
    /* the note state */
    int note;                 /* sounding note or -1 */
    int64_t note_frame;       /* its estimated start */
    int note_velocity;
    int held;                 /* hops its pitch was held within 30 cents */
    int run;                  /* consecutive hops of a consistent new pitch */
    float run_pitch[STABLE_HOPS + 4];
    int64_t run_first_end;    /* end frame of the run's first hop */
    float run_db;
    int quiet, unvoiced;
    int64_t reattack;         /* the attack of a note struck again, waiting for its pitch, or -1 */
    float reattack_peak;
    int64_t last_release;     /* estimated end of the previous note */
    bm_audio_notes_probe probe;
};

static float db_of(float amp) { return amp > 1e-10f ? 20.0f * log10f(amp) : -200.0f; }

bm_audio_notes *audio_notes_create(const bm_audio_notes_config *cfg, char *err, size_t errlen)
{
    if (!(cfg->sample_rate >= 8000 && cfg->sample_rate <= 384000)) {
        bm_errf(err, errlen, "the sample rate %.0f Hz is outside 8000..384000", cfg->sample_rate);
        return NULL;
    }
    if (cfg->lowest_note < 0 || cfg->highest_note > 127 || cfg->lowest_note >= cfg->highest_note) {
        bm_errf(err, errlen, "the note range %d..%d is not a range of MIDI notes", cfg->lowest_note,
                cfg->highest_note);
        return NULL;
    }
    bm_audio_notes *a = calloc(1, sizeof *a);
    if (!a) goto oom;
    a->cfg = *cfg;
    /* a window of two periods of the lowest note and more (at least 40 ms: shorter ones follow a
     * voice's vibrato and scoops too closely) */
    uint32_t win = 256;
    double need = 0.04 * cfg->sample_rate;
    double low_hz = 440.0 * pow(2.0, (cfg->lowest_note - 69) / 12.0);
    if (2.2 * cfg->sample_rate / low_hz > need) need = 2.2 * cfg->sample_rate / low_hz;
    while (win < need && win < 16384) win <<= 1;
    a->win = win;
    a->hop = 64; /* about 5 ms: the time constants below count hops */
    while (a->hop * 2 <= 0.0065 * cfg->sample_rate) a->hop <<= 1;
    while (a->hop > win / 4) a->hop >>= 1;
    uint_t sr = (uint_t)lround(cfg->sample_rate);
    const char *method = cfg->method ? cfg->method : "yinfft";
    /* yinfft's confidence is not meaningful below about 1 kHz; the stability of the pitch over
     * consecutive hops is the voicing test then */
    a->use_conf = strcmp(method, "yinfft") != 0;
    a->pitch = new_aubio_pitch(method, win, a->hop, sr);
    a->onset = new_aubio_onset("specflux", win / 2, a->hop, sr);
    a->hopbuf = new_fvec(a->hop);
    a->pout = new_fvec(1);
    a->oout = new_fvec(1);
    a->ring = calloc(win, sizeof(float));
    if (!a->pitch || !a->onset || !a->hopbuf || !a->pout || !a->oout || !a->ring) goto oom;
    for (int k = 0; k < 2; k++) {
        uint32_t len = win >> k;
        a->fft[k] = new_aubio_fft(len);
        a->frame_buf[k] = new_fvec(len);
        a->spec[k] = new_cvec(len);
        a->hann[k] = malloc(len * sizeof(float));
        if (!a->fft[k] || !a->frame_buf[k] || !a->spec[k] || !a->hann[k]) goto oom;
        for (uint32_t i = 0; i < len; i++) a->hann[k][i] = 0.5f - 0.5f * cosf(6.28318531f * (float)i / (float)len);
    }
    aubio_pitch_set_unit(a->pitch, "Hz");
    aubio_pitch_set_silence(a->pitch, -120); /* the gate below decides what is silence */
    aubio_onset_set_threshold(a->onset, cfg->onset_threshold);
    aubio_onset_set_silence(a->onset, cfg->silence_db);
    aubio_onset_set_minioi_ms(a->onset, 40);
    a->gate = powf(10.0f, cfg->silence_db / 20.0f);
    audio_notes_reset(a);
    return a;
oom:
    bm_errf(err, errlen, "out of memory (or no FFT) while setting up the audio analysis");
    audio_notes_destroy(a);
    return NULL;
}

void audio_notes_destroy(bm_audio_notes *a)
{
    if (!a) return;
    if (a->pitch) del_aubio_pitch(a->pitch);
    if (a->onset) del_aubio_onset(a->onset);
    if (a->hopbuf) del_fvec(a->hopbuf);
    if (a->pout) del_fvec(a->pout);
    if (a->oout) del_fvec(a->oout);
    for (int k = 0; k < 2; k++) {
        if (a->fft[k]) del_aubio_fft(a->fft[k]);
        if (a->frame_buf[k]) del_fvec(a->frame_buf[k]);
        if (a->spec[k]) del_cvec(a->spec[k]);
        free(a->hann[k]);
    }
    free(a->ring);
    free(a);
}

void audio_notes_reset(bm_audio_notes *a)
{
    aubio_onset_reset(a->onset);
    fvec_zeros(a->hopbuf);
    /* run silence through the pitch detector to clear its window */
    for (uint32_t i = 0; i < a->win / a->hop + 1; i++) aubio_pitch_do(a->pitch, a->hopbuf, a->pout);
    a->fill = 0;
    a->started = 0;
    memset(a->ring, 0, a->win * sizeof(float));
    a->ring_pos = 0;
    memset(a->env, 0, sizeof a->env);
    a->env_acc = 0;
    a->env_count = 0;
    a->nhops = 0;
    a->note = -1;
    a->run = 0;
    a->quiet = a->unvoiced = 0;
    a->reattack = -1;
    a->last_release = INT64_MIN / 2;
    memset(&a->probe, 0, sizeof a->probe);
    a->probe.note = -1;
}

uint32_t audio_notes_hop(const bm_audio_notes *a) { return a->hop; }

uint32_t audio_notes_window(const bm_audio_notes *a) { return a->win; }

bm_audio_notes_probe audio_notes_probe(const bm_audio_notes *a) { return a->probe; }

static float env_at(const bm_audio_notes *a, int64_t idx) { return a->env[idx % ENV_N]; }

/* The attack in [from, end): the deepest point of the level envelope (the valley: silence, or
 * the dip before a note is struck again), the peak after it, and the first envelope value past the
 * valley that has risen a tenth of the way to that peak. Returns -1 when the valley is not deep
 * enough to be an attack (a legato change). Sets *peak to the peak amplitude. */
static int64_t find_attack(const bm_audio_notes *a, int64_t from, int64_t end, float *peak)
{
    int64_t i1 = end / ENV_STEP - 1, i0 = from / ENV_STEP;
    if (i1 > a->env_end / ENV_STEP - 1) i1 = a->env_end / ENV_STEP - 1;
    if (i0 < i1 - (ENV_N - 2)) i0 = i1 - (ENV_N - 2);
    if (i0 < 0) i0 = 0;
    *peak = 0;
    if (i1 <= i0) return -1;
    int64_t iv = i0;
    float valley = env_at(a, i0);
    for (int64_t i = i0; i <= i1; i++)
        if (env_at(a, i) <= valley) {
            valley = env_at(a, i);
            iv = i;
        }
    for (int64_t i = iv; i <= i1; i++)
        if (env_at(a, i) > *peak) *peak = env_at(a, i);
    if (!(valley * REATTACK_RATIO < *peak) && valley > a->gate) return -1;
    float thr = valley + 0.1f * (*peak - valley);
    for (int64_t i = iv; i <= i1; i++)
        if (env_at(a, i) >= thr) return i * ENV_STEP;
    return -1;
}

/* Magnitude of a spectrum of len frames near a frequency (the strongest bin within 3 %). */
static float magnitude_near(const cvec_t *spec, uint32_t len, double sr, double hz)
{
    double bin = hz * len / sr;
    int lo = (int)floor(bin * 0.97), hi = (int)ceil(bin * 1.03);
    if (lo < 1) lo = 1;
    if (hi > (int)(len / 2)) hi = (int)(len / 2);
    float m = 0;
    for (int k = lo; k <= hi; k++)
        if (spec->norm[k] > m) m = spec->norm[k];
    return m;
}

/* Pitch trackers fall an octave low on some attacks (a flute's, a voice's onset) where the second
 * harmonic is strong and the fundamental nearly absent: check the spectrum of the newest audio
 * (half the window when the harmonics stay four bins apart, so that a fresh attack dominates) and
 * move such a pitch up an octave. */
static float fix_octave(bm_audio_notes *a, float midi)
{
    double hz = 440.0 * pow(2.0, (midi - 69.0) / 12.0);
    if (hz * 3 > a->cfg.sample_rate * 0.45 || midi + 12 > a->cfg.highest_note + 0.5f) return midi;
    int k = hz >= 4.0 * a->cfg.sample_rate / (a->win / 2) ? 1 : 0;
    uint32_t len = a->win >> k, skip = a->win - len;
    for (uint32_t i = 0; i < len; i++)
        a->frame_buf[k]->data[i] = a->ring[(a->ring_pos + skip + i) % a->win] * a->hann[k][i];
    aubio_fft_do(a->fft[k], a->frame_buf[k], a->spec[k]);
    float h1 = magnitude_near(a->spec[k], len, a->cfg.sample_rate, hz);
    float h2 = magnitude_near(a->spec[k], len, a->cfg.sample_rate, 2 * hz);
    float h3 = magnitude_near(a->spec[k], len, a->cfg.sample_rate, 3 * hz);
    if (h1 < 0.2f * h2 && h3 < 0.5f * h2) return midi + 12.0f;
    return midi;
}

/* Where the level fell under the gate before `end` (a release), searching back to `from`. */
static int64_t find_release(const bm_audio_notes *a, int64_t from, int64_t end)
{
    int64_t i1 = end / ENV_STEP - 1, i0 = from / ENV_STEP;
    if (i1 > a->env_end / ENV_STEP - 1) i1 = a->env_end / ENV_STEP - 1;
    if (i0 < i1 - (ENV_N - 2)) i0 = i1 - (ENV_N - 2);
    float thr = a->gate * 2.0f;
    for (int64_t i = i1; i >= i0 && i >= 0; i--)
        if (env_at(a, i) >= thr) return (i + 1) * ENV_STEP;
    return i0 * ENV_STEP;
}

static int velocity_of(const bm_audio_notes *a, float peak)
{
    float db = db_of(peak), lo = a->cfg.silence_db, hi = -3.0f;
    float x = (db - lo) / (hi - lo);
    int v = (int)lroundf(10.0f + 117.0f * (x < 0 ? 0 : x > 1 ? 1 : x));
    return v < 1 ? 1 : v > 127 ? 127 : v;
}

static int emit(bm_heard_note *out, int n, int max, int on, int note, int vel, int64_t frame, int64_t detected)
{
    if (n >= max) return n;
    out[n] = (bm_heard_note){on, note, vel, frame, detected, 0};
    return n + 1;
}

static float median_pitch(const float *p, int n)
{
    float s[STABLE_HOPS + 4];
    memcpy(s, p, (size_t)n * sizeof *s);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && s[j - 1] > s[j]; j--) {
            float t = s[j];
            s[j] = s[j - 1];
            s[j - 1] = t;
        }
    return n % 2 ? s[n / 2] : 0.5f * (s[n / 2 - 1] + s[n / 2]);
}

/* One analysis hop ending at frame `end`. */
static int analyse_hop(bm_audio_notes *a, int64_t end, bm_heard_note *out, int n, int max)
{
    float sum = 0;
    for (uint32_t i = 0; i < a->hop; i++) sum += a->hopbuf->data[i] * a->hopbuf->data[i];
    float db = db_of(sqrtf(sum / a->hop));
    aubio_pitch_do(a->pitch, a->hopbuf, a->pout);
    float hz = a->pout->data[0], conf = aubio_pitch_get_confidence(a->pitch);
    aubio_onset_do(a->onset, a->hopbuf, a->oout);
    int onset = a->oout->data[0] > 0;
    float midi = hz > 0 ? 69.0f + 12.0f * log2f(hz / 440.0f) : 0;
    int valid = db >= a->cfg.silence_db && (!a->use_conf || conf >= a->cfg.min_confidence) && midi >= a->cfg.lowest_note - 0.5f &&
                midi <= a->cfg.highest_note + 0.5f;
    struct hop_info *h = &a->hist[a->nhops++ % HIST_N];
    *h = (struct hop_info){end, db, midi, conf, valid, onset};
    a->probe = (bm_audio_notes_probe){db, valid ? midi : 0, conf, a->note, onset};
    int64_t half = a->win / 2;

    /* the end of a note: quiet, or no pitch for a while */
    if (a->note >= 0) {
        a->quiet = db < a->cfg.silence_db - 3.0f ? a->quiet + 1 : 0;
        a->unvoiced = valid ? 0 : a->unvoiced + 1;
        if (a->quiet >= QUIET_HOPS || a->unvoiced >= UNVOICED_HOPS) {
            int64_t rel = a->quiet >= QUIET_HOPS ? find_release(a, a->note_frame, end)
                                                 : end - (int64_t)a->hop * UNVOICED_HOPS;
            if (rel <= a->note_frame) rel = a->note_frame + 1;
            n = emit(out, n, max, 0, a->note, 0, rel, end);
            a->last_release = rel;
            a->note = -1;
            a->run = 0;
            a->reattack = -1;
        }
    }
    /* a note struck again: aubio's onset or a jump in level, coming out of a dip; its pitch is
     * judged once the window holds mostly the new attack */
    if (a->note >= 0 && valid && fabsf(midi - (float)a->note) < 0.3f) a->held++;
    if (a->note >= 0 && a->reattack < 0) {
        /* the dip: the quietest of the last hops, and how loud it was before it */
        float dip = db, before = -200.0f;
        int kd = 1;
        for (int k = 2; k <= 8 && (uint64_t)k <= a->nhops; k++) {
            float d = a->hist[(a->nhops - k) % HIST_N].db;
            if (d < dip) {
                dip = d;
                kd = k;
            }
        }
        for (int k = kd + 1; k <= kd + 8 && (uint64_t)k <= a->nhops; k++) {
            float d = a->hist[(a->nhops - k) % HIST_N].db;
            if (d > before) before = d;
        }
        int onset_recent = 0; /* aubio's onset on one of the last three hops */
        for (int k = 1; k <= 3 && (uint64_t)k <= a->nhops; k++) onset_recent |= a->hist[(a->nhops - k) % HIST_N].onset;
        /* a dip alone is a voice's tremolo as often as a new attack: aubio's onset must agree */
        /* out of a dip (a wind or a voice breathing between notes), or suddenly louder than the
         * decay it interrupts (a plucked string struck again) */
        float back3 = a->nhops >= 4 ? a->hist[(a->nhops - 4) % HIST_N].db : db;
        int rose = (before - dip >= 6.0f && db - dip >= 6.0f) || (db - back3 >= 4.0f && db - dip >= 4.0f);
        if (rose && onset_recent && end - a->note_frame > (int64_t)(0.06 * a->cfg.sample_rate)) {
            int64_t from = end - (int64_t)(8 * a->hop);
            if (from < a->note_frame + (int64_t)a->hop) from = a->note_frame + (int64_t)a->hop;
            float peak;
            int64_t at = find_attack(a, from, end, &peak);
            if (at > a->note_frame) {
                a->reattack = at;
                a->reattack_peak = peak;
            }
        }
    }
    if (a->reattack >= 0 && end - a->reattack > (int64_t)(a->win + 4 * a->hop)) a->reattack = -1; /* never confirmed */

    if (!valid) {
        a->run = 0;
        return n;
    }
    /* a new pitch: from silence, away from the sounding note by more than the hysteresis, or any
     * pitch once a new attack has filled most of the window (a struck note needs no hysteresis) */
    int struck = a->reattack >= 0 && end - a->reattack >= (int64_t)(a->win / 2 + 2 * a->hop);
    int away = struck || a->note < 0 || fabsf(midi - (float)a->note) > 0.5f + a->cfg.hysteresis;
    if (away && !struck && a->note >= 0 && fabsf(midi + 12.0f - (float)a->note) <= 0.5f + a->cfg.hysteresis &&
        fix_octave(a, midi) > midi)
        away = 0; /* the sounding note, heard an octave low */
    if (!away) {
        a->run = 0;
        return n;
    }
    /* a run of hops whose pitch moves little from one to the next; a glide between two notes
     * (the window holding both) moves too much, or lies between semitones */
    if (a->run > 0 && fabsf(midi - a->run_pitch[a->run - 1]) > 0.3f) a->run = 0;
    if (a->run == 0) a->run_first_end = end;
    if (a->run == STABLE_HOPS + 4) {
        memmove(a->run_pitch, a->run_pitch + 1, (STABLE_HOPS + 3) * sizeof a->run_pitch[0]);
        a->run--;
    }
    a->run_pitch[a->run++] = midi;
    if (a->run < STABLE_HOPS) return n;
    const float *last = a->run_pitch + a->run - STABLE_HOPS;
    float lo = last[0], hi = last[0];
    for (int k = 1; k < STABLE_HOPS; k++) {
        if (last[k] < lo) lo = last[k];
        if (last[k] > hi) hi = last[k];
    }
    if (hi - lo > STABLE_SPREAD) return n;
    float recent = median_pitch(last, STABLE_HOPS);
    if (fabsf(recent - roundf(recent)) > 0.4f) return n;
    float pitch = fix_octave(a, recent);
    int note = (int)lroundf(pitch);
    if (note == a->note) {
        if (struck) { /* the same note struck again */
            n = emit(out, n, max, 0, a->note, 0, a->reattack - 1, end);
            a->note_velocity = velocity_of(a, a->reattack_peak);
            n = emit(out, n, max, 1, a->note, a->note_velocity, a->reattack, end);
            a->note_frame = a->reattack;
            a->reattack = -1;
            a->held = 0;
        }
        a->run = 0;
        return n;
    }
    if (note < a->cfg.lowest_note || note > a->cfg.highest_note) return n;
    /* when did it start? the attack in the envelope, else the pitch change */
    int64_t from = a->note >= 0 ? a->note_frame + (int64_t)a->hop : end - (int64_t)(a->win + 4 * a->hop);
    if (a->note < 0 && from < a->last_release) from = a->last_release;
    float peak;
    int64_t at = find_attack(a, from, end, &peak);
    /* a legato change: the pitch estimate flips once the new note dominates the window (measured:
     * from half the window after the change for a slur, to a whole window when the old note
     * rings on); find the first hop of the flip (nearer the new note than the old) */
    int64_t flip = a->run_first_end;
    if (a->note >= 0)
        for (uint64_t k = 1; k < HIST_N && k <= a->nhops; k++) {
            const struct hop_info *hk = &a->hist[(a->nhops - k) % HIST_N];
            if (!hk->valid || fabsf(hk->midi - (float)note) >= fabsf(hk->midi - (float)a->note)) break;
            flip = hk->end;
        }
    int64_t by_pitch = flip - (a->note >= 0 ? (int64_t)(LEGATO_LAG * a->win) : half);
    if (a->reattack >= 0) at = a->reattack; /* the new note was struck: that is when it began */
    if (at < 0 || (a->note >= 0 && at < by_pitch - (int64_t)a->hop)) at = by_pitch;
    int relabel = 0;
    if (a->note >= 0 && a->reattack < 0 && end - a->note_frame < (int64_t)(RELABEL_S * a->cfg.sample_rate) &&
        (abs(note - a->note) == 12 || a->held < RELABEL_HELD)) {
        /* the first pitch was wrong (an octave off, or a scoop into the note): the same note,
         * relabelled from its start */
        at = a->note_frame;
        relabel = 1;
        n = emit(out, n, max, 0, a->note, 0, at, end);
    } else if (a->note >= 0) {
        if (at <= a->note_frame) at = a->note_frame + 1;
        n = emit(out, n, max, 0, a->note, 0, at - 1 > a->note_frame ? at - 1 : at, end);
    }
    if (relabel) {
        n = emit(out, n, max, 1, note, a->note_velocity, at, end);
        if (n > 0) out[n - 1].relabel = 1;
    } else {
        a->note_velocity = velocity_of(a, peak > 0 ? peak : a->gate);
        n = emit(out, n, max, 1, note, a->note_velocity, at, end);
    }
    a->held = 0;
    a->note = note;
    a->note_frame = at;
    a->run = 0;
    a->quiet = a->unvoiced = 0;
    a->reattack = -1;
    a->probe.note = note;
    return n;
}

int audio_notes_process(bm_audio_notes *a, const float *in, uint32_t nframes, int64_t frame,
                        bm_heard_note *out, int max)
{
    int n = 0;
    if (!a->started || frame != a->next_frame) {
        /* the first audio, or a gap in the timeline: what was sounding has ended */
        if (a->started && a->note >= 0) n = emit(out, n, max, 0, a->note, 0, a->next_frame, a->next_frame);
        a->note = -1;
        a->run = 0;
        a->fill = 0;
        a->env_count = 0;
        a->env_acc = 0;
        a->env_end = frame - frame % ENV_STEP;
        a->env_count = (uint32_t)(frame - a->env_end);
        a->started = 1;
    }
    for (uint32_t i = 0; i < nframes; i++) {
        float x = in[i];
        if (!(x == x)) x = 0; /* a NaN from a broken source is silence */
        float ax = fabsf(x);
        if (ax > a->env_acc) a->env_acc = ax;
        if (++a->env_count == ENV_STEP) {
            a->env[(a->env_end / ENV_STEP) % ENV_N] = a->env_acc;
            a->env_end += ENV_STEP;
            a->env_acc = 0;
            a->env_count = 0;
        }
        a->hopbuf->data[a->fill++] = x;
        a->ring[a->ring_pos] = x;
        if (++a->ring_pos == a->win) a->ring_pos = 0;
        if (a->fill == a->hop) {
            n = analyse_hop(a, frame + i + 1, out, n, max);
            a->fill = 0;
        }
    }
    a->next_frame = frame + nframes;
    return n;
}
