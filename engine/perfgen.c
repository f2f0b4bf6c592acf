/* perfgen.c: synthetic performances: a random walk on a scale over a I-vi-IV-V progression. */
#include "engine/perfgen.h"
#include "engine/smf.h"

#include <math.h>
#include <stdio.h>

static uint32_t next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

int perfgen_write(const bm_perfgen *g, const char *path, int *notes, char *err, size_t errlen)
{
    static const int scale[7] = {0, 2, 4, 5, 7, 9, 11};
    static const int prog[4][3] = {{0, 4, 7}, {9, 12, 16}, {5, 9, 12}, {7, 11, 14}};
    smf *s = smf_new(480);
    if (!s || smf_add_track(s, "human") != 0) {
        snprintf(err, errlen, "out of memory");
        smf_free(s);
        return -1;
    }
    smf_add_tempo(s, 0, 0, (uint32_t)llround(60e6 / g->bpm));
    uint64_t rng = g->seed * 2654435761u + 7;
    int beats = (int)(g->seconds * g->bpm / 60.0);
    int per = g->notes_per_beat < 1 ? 1 : g->notes_per_beat > 8 ? 8 : g->notes_per_beat;
    int degree = 7, count = 0;
    for (int b = 0; b < beats; b++) {
        const int *chord = prog[(b / 4) % 4];
        if (g->chords) {
            for (int k = 0; k < 3; k++) {
                uint8_t on[3] = {0x90, (uint8_t)(48 + chord[k]), (uint8_t)(60 + next(&rng) % 30)};
                uint8_t off[3] = {0x80, on[1], 0};
                smf_add_midi(s, 0, (uint64_t)b * 480, on, 3);
                smf_add_midi(s, 0, (uint64_t)b * 480 + 400, off, 3);
                count++;
            }
        }
        for (int i = 0; i < per; i++) {
            if (next(&rng) % 8 == 0) continue; /* a rest now and then */
            degree += (int)(next(&rng) % 5) - 2;
            if (degree < 0) degree = 2;
            if (degree > 14) degree = 12;
            int pitch = 60 + 12 * (degree / 7) + scale[degree % 7];
            uint64_t t = (uint64_t)b * 480 + (uint64_t)i * 480 / (uint64_t)per + next(&rng) % 12;
            uint64_t len = 480 / (uint64_t)per * 9 / 10;
            uint8_t on[3] = {0x90, (uint8_t)pitch, (uint8_t)(70 + next(&rng) % 50)}, off[3] = {0x80, (uint8_t)pitch, 0};
            smf_add_midi(s, 0, t, on, 3);
            smf_add_midi(s, 0, t + len, off, 3);
            count++;
        }
    }
    int rc = smf_write_file(s, path, err, errlen);
    smf_free(s);
    if (notes) *notes = count;
    return rc;
}

int perfgen_write_notes(const bm_gen_note *notes, int n, const char *path, char *err, size_t errlen)
{
    smf *s = smf_new(960);
    if (!s || smf_add_track(s, "human") != 0) {
        snprintf(err, errlen, "out of memory");
        smf_free(s);
        return -1;
    }
    smf_add_tempo(s, 0, 0, 1000000);
    for (int i = 0; i < n; i++) {
        const bm_gen_note *g = &notes[i];
        uint8_t on[3] = {0x90, (uint8_t)g->note, (uint8_t)g->velocity}, off[3] = {0x80, (uint8_t)g->note, 0};
        smf_add_midi(s, 0, (uint64_t)llround(g->on * 960), on, 3);
        smf_add_midi(s, 0, (uint64_t)llround(g->off * 960), off, 3);
    }
    int rc = smf_write_file(s, path, err, errlen);
    smf_free(s);
    return rc;
}

int perfgen_tempo_line(double bpm0, double bpm1, int beats, int jump_at, double jitter_ms, uint64_t seed,
                       double *beat_s, double *beat_bpm, bm_gen_note *notes, int max)
{
    double t = 0.5;
    for (int k = 0; k <= beats; k++) {
        double bpm = jump_at > 0 ? (k < jump_at ? bpm0 : bpm1) : bpm0 + (bpm1 - bpm0) * k / (double)beats;
        beat_s[k] = t;
        beat_bpm[k] = bpm;
        t += 60.0 / bpm;
    }
    static const int scale[] = {60, 62, 64, 65, 67, 69, 71, 72};
    uint64_t s = seed;
    int deg = 0, n = 0;
    for (int k = 0; k < beats; k++) {
        int pat = k % 8; /* q q ee q q rest ee q */
        double len = beat_s[k + 1] - beat_s[k];
        int sub = pat == 2 || pat == 6 ? 2 : pat == 5 ? 0 : 1;
        for (int i = 0; i < sub && n < max; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            double j = ((double)(s % 1000) / 1000.0 - 0.5) * 2 * jitter_ms * 1e-3;
            double on = beat_s[k] + i * len / sub + j;
            deg = (deg + (int)(s >> 20) % 3 + 7) % 8;
            bm_gen_note *g = &notes[n++];
            g->on = on;
            g->off = on + 0.8 * len / sub;
            g->note = scale[deg];
            g->velocity = k % 4 == 0 && i == 0 ? 105 : i == 0 ? 85 : 70;
        }
    }
    return n;
}

int perfgen_phrases(double bpm, int phrases, double rest_beats, uint64_t seed, bm_gen_note *notes, int max)
{
    static const int scale[7] = {0, 2, 4, 5, 7, 9, 11};
    uint64_t rng = seed * 2654435761u + 11;
    double beat_s = 60.0 / bpm, t = 0.5;
    int n = 0, degree = 7;
    for (int p = 0; p < phrases; p++) {
        int len = 2 + (int)(next(&rng) % 11);
        for (int i = 0; i < len && n < max; i++) {
            uint32_t r = next(&rng) % 8;
            double dur = r < 4 ? 0.5 : r < 7 ? 1.0 : 1.5; /* eighths, quarters, a dotted quarter */
            degree += (int)(next(&rng) % 5) - 2;
            if (degree < 0) degree = 2;
            if (degree > 14) degree = 12;
            bm_gen_note *g = &notes[n++];
            g->on = t;
            g->off = t + dur * beat_s * 0.9;
            g->note = 60 + 12 * (degree / 7) + scale[degree % 7];
            g->velocity = 70 + (int)(next(&rng) % 40);
            t += dur * beat_s;
        }
        t += rest_beats * beat_s;
    }
    return n;
}

int perfgen_key_change(double bpm, int beats, int change_beat, int new_key, uint64_t seed, uint16_t *chord,
                       bm_gen_note *notes, int max)
{
    static const int scale[7] = {0, 2, 4, 5, 7, 9, 11};
    static const int prog[8] = {0, 5, 3, 4, 1, 4, 0, 0}; /* I vi IV V ii V I I: scale degrees of the roots */
    uint64_t rng = seed * 2654435761u + 13;
    double beat_s = 60.0 / bpm;
    int n = 0;
    for (int b = 0; b < beats; b++) {
        int key = b >= change_beat ? new_key : 0;
        int root = prog[(b / 4) % 8];
        int tones[3];
        chord[b] = 0;
        for (int k = 0; k < 3; k++) {
            int d = root + 2 * k;
            tones[k] = key + scale[d % 7] + 12 * (d / 7);
            chord[b] |= (uint16_t)(1u << (tones[k] % 12));
        }
        double t = 0.5 + b * beat_s;
        for (int k = 0; k < 3 && n < max; k++) /* the chord, in the octave below middle C */
            notes[n++] = (bm_gen_note){t, t + 0.9 * beat_s, 48 + tones[k], 60 + (int)(next(&rng) % 20)};
        for (int i = 0; i < 2 && n < max; i++) { /* two eighths: a chord tone, then a chord or scale tone */
            int pitch = i == 0 || next(&rng) % 2 ? tones[next(&rng) % 3] : key + scale[next(&rng) % 7];
            double on = t + i * beat_s / 2;
            notes[n++] = (bm_gen_note){on, on + 0.45 * beat_s, 72 + pitch % 12, 80 + (int)(next(&rng) % 30)};
        }
    }
    return n;
}
