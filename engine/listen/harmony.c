/* harmony.c: chord templates against the notes sounding (and recently released), key profiles
 * against a slowly decaying pitch-class histogram. */
#include "engine/listen/harmony.h"

#include <math.h>
#include <string.h>

#define RELEASED_HALF_LIFE 2.0   /* beats: a released note still counts for the chord a while */
#define KEY_HALF_LIFE 16.0       /* beats: the key remembers about four bars ... */
#define KEY_RECENT_HALF_LIFE 4.0 /* ... and, to notice a modulation early, the last bar or so */
#define CHORD_MARGIN 0.02f       /* a new chord must fit this much better than the current one */
#define KEY_MARGIN 0.05f         /* another key correlating this much better in the long memory */
#define KEY_LOST 0.5f            /* the key is lost when the recent memory correlates less, */
#define KEY_RECENT_MIN 0.7f      /* and another key correlates at least this well */
#define KEY_LOST_MARGIN 0.15f     /* (or another key correlates this much better) */
#define KEY_LOST_HOLD 5.0        /* for this many beats */
#define KEY_HOLD 4.0             /* for this many beats, takes over */
#define KEY_MIN_WEIGHT 2.0f      /* evidence needed before a first key is named */

/* Chord templates as interval sets, with a small penalty for the less common or larger ones so
 * that a plain triad wins a tie. */
static const struct {
    int n;
    int iv[4];
    float penalty;
} templates[BM_CHORD_COUNT] = {
    [BM_CHORD_MAJ] = {3, {0, 4, 7}, 0.0f},
    [BM_CHORD_MIN] = {3, {0, 3, 7}, 0.0f},
    [BM_CHORD_DOM7] = {4, {0, 4, 7, 10}, 0.02f},
    [BM_CHORD_MAJ7] = {4, {0, 4, 7, 11}, 0.02f},
    [BM_CHORD_MIN7] = {4, {0, 3, 7, 10}, 0.02f},
    [BM_CHORD_DIM] = {3, {0, 3, 6}, 0.03f},
    [BM_CHORD_HALFDIM7] = {4, {0, 3, 6, 10}, 0.03f},
    [BM_CHORD_AUG] = {3, {0, 4, 8}, 0.05f},
    [BM_CHORD_SUS4] = {3, {0, 5, 7}, 0.04f},
    [BM_CHORD_SUS2] = {3, {0, 2, 7}, 0.05f},
};

/* Key profiles: probe-tone ratings (Krumhansl and Kessler 1982). */
static const float major_profile[12] = {6.35f, 2.23f, 3.48f, 2.33f, 4.38f, 4.09f,
                                        2.52f, 5.19f, 2.39f, 3.66f, 2.29f, 2.88f};
static const float minor_profile[12] = {6.33f, 2.68f, 3.52f, 5.38f, 2.60f, 3.53f,
                                        2.54f, 4.75f, 3.98f, 2.69f, 3.34f, 3.17f};

void harmony_init(bm_harmony *h)
{
    memset(h, 0, sizeof *h);
    h->chord_root = -1;
    h->key_root = -1;
    h->cand_root = -1;
    h->lost_root = -1;
    h->lost_beat = -1e9;
    h->last_bass = -1;
    h->last_beat = 0;
    h->cluster_beat = -1e9;
}

void harmony_note_on(bm_harmony *h, int note, int velocity, double beat)
{
    if (note < 0 || note > 127) return;
    (void)velocity;
    if (beat - h->cluster_beat > 0.1) { /* a new attack */
        h->cluster_beat = beat;
        h->cluster_n = 0;
        h->last_bass = note % 12;
    }
    int lowest = 128;
    for (int n = 0; n < 128; n++)
        if (h->sounding[n]) { lowest = n; break; }
    if (note < lowest) h->last_bass = note % 12;
    if (++h->cluster_n == 2) /* a chord is struck: what was released before it fades faster */
        for (int pc = 0; pc < 12; pc++) h->released[pc] *= 0.3f;
    if (h->sounding[note] < 255) h->sounding[note]++;
    h->on_beat[note] = beat;
    h->key_hist[note % 12] += 0.5f;
    h->key_recent[note % 12] += 0.5f;
    h->key_weight += 0.5f;
    h->dirty = 1;
}

void harmony_note_off(bm_harmony *h, int note, double beat)
{
    if (note < 0 || note > 127 || !h->sounding[note]) return;
    h->sounding[note]--;
    if (!h->sounding[note]) {
        h->released[note % 12] += 1.0f;
        if (h->released[note % 12] > 1.5f) h->released[note % 12] = 1.5f;
        double len = beat - h->on_beat[note];
        if (len > 2) len = 2;
        if (len > 0) {
            h->key_hist[note % 12] += (float)(0.5 * len);
            h->key_recent[note % 12] += (float)(0.5 * len);
            h->key_weight += (float)(0.5 * len);
        }
    }
    h->dirty = 1;
}

void harmony_chroma(bm_harmony *h, const float chroma[12], double dur_beats, int onset, double beat)
{
    (void)beat;
    float mx = 0;
    for (int pc = 0; pc < 12; pc++)
        if (chroma[pc] > mx) mx = chroma[pc];
    if (mx <= 0) return;
    /* smoothing with a time constant of about half a beat, shorter right after an attack */
    float a = (float)(dur_beats / (onset ? 0.15 : 0.5));
    if (a > 1) a = 1;
    for (int pc = 0; pc < 12; pc++) {
        float c = chroma[pc] / mx;
        h->chroma[pc] += a * (c - h->chroma[pc]);
        h->key_hist[pc] += (float)(c * dur_beats * 0.5);
        h->key_recent[pc] += (float)(c * dur_beats * 0.5);
    }
    h->key_weight += (float)(dur_beats * 0.5);
    h->chroma_level = 1.0f;
    h->dirty = 1;
}

static float cosine_score(const float v[12], float vnorm, int root, int q)
{
    float dot = 0;
    for (int i = 0; i < templates[q].n; i++) dot += v[(root + templates[q].iv[i]) % 12];
    return dot / (vnorm * sqrtf((float)templates[q].n));
}

static float chord_score(const float v[12], int bass, int root, int q)
{
    float norm = 0;
    for (int pc = 0; pc < 12; pc++) norm += v[pc] * v[pc];
    if (norm <= 1e-12f) return 0;
    float s = cosine_score(v, sqrtf(norm), root, q) - templates[q].penalty;
    if (bass == root) s += 0.08f; /* the bass names the root more often than not */
    return s;
}

float harmony_best_chord(const float v[12], int bass, int *root, int *quality)
{
    float norm = 0;
    for (int pc = 0; pc < 12; pc++) norm += v[pc] * v[pc];
    *root = -1;
    *quality = BM_CHORD_NONE;
    if (norm <= 1e-6f) return 0;
    norm = sqrtf(norm);
    float best = -1;
    for (int q = 1; q < BM_CHORD_COUNT; q++)
        for (int r = 0; r < 12; r++) {
            float s = cosine_score(v, norm, r, q) - templates[q].penalty + (bass == r ? 0.08f : 0.0f);
            if (s > best) {
                best = s;
                *root = r;
                *quality = q;
            }
        }
    return best;
}

static float correlate(const float *x, const float *prof, int root)
{
    float mx = 0, mp = 0;
    for (int i = 0; i < 12; i++) {
        mx += x[i];
        mp += prof[i];
    }
    mx /= 12;
    mp /= 12;
    float sxy = 0, sxx = 0, syy = 0;
    for (int pc = 0; pc < 12; pc++) {
        float a = x[pc] - mx, b = prof[(pc - root + 12) % 12] - mp;
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
    }
    return sxx > 0 && syy > 0 ? sxy / sqrtf(sxx * syy) : 0;
}

float harmony_best_key(const float hist[12], int *root, int *minor, float *second)
{
    float best = -2, next = -2;
    *root = -1;
    *minor = 0;
    for (int m = 0; m < 2; m++)
        for (int r = 0; r < 12; r++) {
            float s = correlate(hist, m ? minor_profile : major_profile, r);
            if (s > best) {
                next = best;
                best = s;
                *root = r;
                *minor = m;
            } else if (s > next) {
                next = s;
            }
        }
    if (second) *second = next;
    return best;
}

static void estimate_chord(bm_harmony *h, double beat)
{
    float v[12] = {0};
    int bass = -1;
    for (int n = 0; n < 128; n++)
        if (h->sounding[n]) {
            if (bass < 0) bass = n % 12;
            v[n % 12] += 1.0f;
        }
    for (int pc = 0; pc < 12; pc++) {
        v[pc] += h->released[pc];
        v[pc] += h->chroma_level * h->chroma[pc];
    }
    if (bass < 0) bass = h->last_bass;
    int root, q;
    float best = harmony_best_chord(v, bass, &root, &q);
    if (root < 0) {
        h->chord_root = -1;
        h->chord_quality = BM_CHORD_NONE;
        h->chord_score = 0;
        return;
    }
    if (h->chord_root >= 0 && (root != h->chord_root || q != h->chord_quality)) {
        float cur = chord_score(v, bass, h->chord_root, h->chord_quality);
        if (best < cur + CHORD_MARGIN) {
            h->chord_score = cur;
            return;
        }
    }
    if (root != h->chord_root || q != h->chord_quality) h->chord_since = beat;
    h->chord_root = root;
    h->chord_quality = q;
    h->chord_score = best;
}

static void set_key(bm_harmony *h, int root, int minor, float score, double beat)
{
    if (h->key_root >= 0) h->key_changes++;
    h->key_root = root;
    h->key_minor = minor;
    h->key_score = score;
    h->key_since = beat;
    h->cand_root = -1;
}

static void estimate_key(bm_harmony *h, double beat)
{
    if (h->key_weight < KEY_MIN_WEIGHT) return;
    int root, minor, rroot, rminor;
    float second, rsecond;
    float best = harmony_best_key(h->key_hist, &root, &minor, &second);
    float rbest = harmony_best_key(h->key_recent, &rroot, &rminor, &rsecond);
    if (h->key_root < 0) {
        set_key(h, root, minor, best, beat);
        h->key_conf = best - second;
        return;
    }
    float cur = correlate(h->key_hist, h->key_minor ? minor_profile : major_profile, h->key_root);
    float rcur = correlate(h->key_recent, h->key_minor ? minor_profile : major_profile, h->key_root);
    h->key_score = cur;
    h->key_conf = root == h->key_root && minor == h->key_minor ? best - second : cur - best;
    /* a modulation: the last bars fit another key clearly better (or no longer fit this one); the
     * evidence leaks away while they do not, so a borrowed chord or two is not enough. The long
     * memory then starts again from the recent one (later evidence may still refine the key) */
    double dt = h->lost_beat > -1e8 ? beat - h->lost_beat : 0;
    h->lost_beat = beat;
    if ((rcur < KEY_LOST || rbest - rcur >= KEY_LOST_MARGIN) && rbest >= KEY_RECENT_MIN &&
        (rroot != h->key_root || rminor != h->key_minor)) {
        if (rroot != h->lost_root || rminor != h->lost_minor) {
            h->lost_root = rroot;
            h->lost_minor = rminor;
            h->lost_evidence *= 0.5;
        }
        h->lost_evidence += dt;
        if (h->lost_evidence >= KEY_LOST_HOLD) {
            set_key(h, rroot, rminor, rbest, beat);
            memcpy(h->key_hist, h->key_recent, sizeof h->key_hist);
            h->lost_evidence = 0;
            return;
        }
    } else {
        h->lost_evidence -= 0.5 * dt;
        if (h->lost_evidence < 0) h->lost_evidence = 0;
    }
    /* a slow drift: another key clearly better over the long memory for a while */
    if ((root == h->key_root && minor == h->key_minor) || best < cur + KEY_MARGIN) {
        h->cand_root = -1;
        return;
    }
    if (root != h->cand_root || minor != h->cand_minor) {
        h->cand_root = root;
        h->cand_minor = minor;
        h->cand_since = beat;
        return;
    }
    if (beat - h->cand_since >= KEY_HOLD) set_key(h, root, minor, best, beat);
}

void harmony_update(bm_harmony *h, double beat)
{
    double dt = beat - h->last_beat;
    if (dt > 0) {
        float rd = (float)pow(0.5, dt / RELEASED_HALF_LIFE), kd = (float)pow(0.5, dt / KEY_HALF_LIFE);
        float krd = (float)pow(0.5, dt / KEY_RECENT_HALF_LIFE);
        for (int pc = 0; pc < 12; pc++) {
            h->released[pc] *= rd;
            h->key_hist[pc] *= kd;
            h->key_recent[pc] *= krd;
        }
        h->key_weight *= kd;
        h->chroma_level *= rd; /* audio that stopped fades like a released note */
        h->last_beat = beat;
        h->dirty = 1;
    } else if (dt < -1) { /* the clock was relocated backwards: start the decay from here */
        h->last_beat = beat;
    }
    if (!h->dirty) return;
    h->dirty = 0;
    estimate_chord(h, beat);
    estimate_key(h, beat);
}

void harmony_fill(const bm_harmony *h, bm_listen_state *s)
{
    s->key_root = h->key_root;
    s->key_minor = h->key_minor;
    float c = h->key_conf / 0.2f;
    s->key_confidence = c < 0 ? 0 : c > 1 ? 1 : c;
    s->key_since = h->key_since;
    s->key_changes = h->key_changes;
    s->chord_root = h->chord_root;
    s->chord_quality = h->chord_quality;
    float cs = h->chord_score;
    s->chord_confidence = cs < 0 ? 0 : cs > 1 ? 1 : cs;
    s->chord_since = h->chord_since;
    int bass = -1;
    for (int n = 0; n < 128; n++)
        if (h->sounding[n]) { bass = n % 12; break; }
    s->bass = bass;
    float v[12], mx = 0;
    for (int pc = 0; pc < 12; pc++) {
        v[pc] = h->released[pc] + h->chroma_level * h->chroma[pc];
        if (v[pc] > mx) mx = v[pc];
    }
    for (int n = 0; n < 128; n++)
        if (h->sounding[n]) {
            v[n % 12] += 1.0f;
            if (v[n % 12] > mx) mx = v[n % 12];
        }
    for (int pc = 0; pc < 12; pc++) s->pitch_classes[pc] = mx > 0 ? v[pc] / mx : 0;
}
