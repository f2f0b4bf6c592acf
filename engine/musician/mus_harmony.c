/* mus_harmony.c: decaying pitch-class profiles, chord fit and key estimate. */
#include "engine/musician/mus_harmony.h"
#include "engine/musician/mus_chart.h"

#include <string.h>

/* per-step decay factors: 0.5^(1 / half-life in steps) */
#define DECAY_SHORT 0.8409f  /* 4 steps */
#define DECAY_LONG 0.99460f  /* 128 steps */
#define DECAY_LOW 0.9170f    /* 8 steps */

static const float major_profile[12] = {6.35f, 2.23f, 3.48f, 2.33f, 4.38f, 4.09f,
                                        2.52f, 5.19f, 2.39f, 3.66f, 2.29f, 2.88f};
static const float minor_profile[12] = {6.33f, 2.68f, 3.52f, 5.38f, 2.60f, 3.53f,
                                        2.54f, 4.75f, 3.98f, 2.69f, 3.34f, 3.17f};

void mus_harmony_reset(mus_harmony *h)
{
    memset(h, 0, sizeof *h);
    h->chord = MUS_CHORD_NONE;
    h->key_tonic = -1;
}

static void estimate_key(mus_harmony *h)
{
    float total = 0;
    for (int i = 0; i < 12; i++) total += h->chroma_long[i];
    if (total < 1e-3f) {
        h->key_tonic = -1;
        return;
    }
    float best = -1e30f;
    for (int mode = 0; mode < 2; mode++)
        for (int r = 0; r < 12; r++) {
            const float *prof = mode ? minor_profile : major_profile;
            float s = 0;
            for (int pc = 0; pc < 12; pc++) s += h->chroma_long[pc] * prof[(pc - r + 12) % 12];
            if (s > best) {
                best = s;
                h->key_tonic = r;
                h->key_mode = mode;
            }
        }
}

void mus_harmony_update(mus_harmony *h, const mus_hsum *s)
{
    for (int i = 0; i < 12; i++) {
        h->chroma_short[i] *= DECAY_SHORT;
        h->chroma_long[i] *= DECAY_LONG;
        h->low[i] *= DECAY_LOW;
    }
    for (int i = 0; i < 12; i++) {
        float w = (s->sound_pcs >> i & 1 ? 0.5f : 0.0f) + (s->onset_pcs >> i & 1 ? 0.5f : 0.0f);
        h->chroma_short[i] += w;
        h->chroma_long[i] += w;
    }
    if (s->lo) h->low[s->lo % 12] += 1.0f;
    /* the chord: the pitch classes that carry at least a third of the strongest one's weight */
    float mx = 0, lmx = 0;
    int low_pc = -1;
    for (int i = 0; i < 12; i++) {
        if (h->chroma_short[i] > mx) mx = h->chroma_short[i];
        if (h->low[i] > lmx) {
            lmx = h->low[i];
            low_pc = i;
        }
    }
    uint16_t set = 0;
    for (int i = 0; i < 12 && mx > 0.05f; i++)
        if (h->chroma_short[i] >= mx * 0.33f) set |= (uint16_t)(1u << i);
    h->chord = mus_chord_fit(set, lmx > 0.05f ? low_pc : -1);
    if (++h->steps_since_key >= 4 || h->key_tonic < 0) { /* once a beat is plenty */
        estimate_key(h);
        h->steps_since_key = 0;
    }
}

static void normalised(const float *x, float *out)
{
    float mx = 0;
    for (int i = 0; i < 12; i++) mx = x[i] > mx ? x[i] : mx;
    float inv = mx > 1e-6f ? 1.0f / mx : 0.0f;
    for (int i = 0; i < 12; i++) out[i] = x[i] * inv;
}

void mus_harmony_features(const mus_harmony *h, float *out)
{
    normalised(h->chroma_short, out);
    normalised(h->chroma_long, out + 12);
    normalised(h->low, out + 24);
    uint16_t chord = mus_chord_pcs(h->chord);
    uint16_t scale = h->key_tonic >= 0 ? mus_pcs_transpose(mus_mode_scale(h->key_mode), h->key_tonic) : 0;
    for (int i = 0; i < 12; i++) {
        out[36 + i] = (float)(chord >> i & 1);
        out[48 + i] = (float)(scale >> i & 1);
    }
}

static void rotate(float *x, int k)
{
    float t[12];
    for (int i = 0; i < 12; i++) t[(i + k) % 12] = x[i];
    memcpy(x, t, sizeof t);
}

void mus_harmony_transpose(mus_harmony *h, int k)
{
    k = ((k % 12) + 12) % 12;
    if (!k) return;
    rotate(h->chroma_short, k);
    rotate(h->chroma_long, k);
    rotate(h->low, k);
    if (h->chord != MUS_CHORD_NONE) h->chord = ((mus_chord_root(h->chord) + k) % 12) * MUS_NQUALITY + h->chord % MUS_NQUALITY;
    if (h->key_tonic >= 0) h->key_tonic = (h->key_tonic + k) % 12;
}
