/* voicedef.c: voice files, their validation, placing voices with the encoder, blending. */
#include "engine/voice/voicedef.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const int voice_env_velocity[VOICE_ENV_LAYERS] = {32, 64, 96, 127};

#define VOICE_DEF_FORMAT 1
#define TARGET_PEAK_DB (-18.0f) /* mean-square level a voice's velocity-100 note peaks at after its gain */

static int seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int voice_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n >= VOICE_NAME_MAX || name[0] == '.' || name[0] == '-') return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("_-.+", name[i])) return 0;
    return 1;
}

/* ---- file ---- */

int voice_def_save(const voice_def *v, const char *path, const char *command_line, char *err, size_t errlen)
{
    nn_model *m = nn_model_create();
    if (!m) return seterr(err, errlen, "out of memory");
    int Z = v->zdim, rc = -1;
    int sp[2] = {v->n_path, 1 + Z}, sh[2] = {VOICE_ENV_LAYERS, VOICE_ENV_HOLD},
        sr[2] = {VOICE_ENV_LAYERS, VOICE_ENV_RELEASE}, si[1] = {8};
    if (nn_model_add(m, "voice.path", 2, sp) < 0 || nn_model_add(m, "voice.hold", 2, sh) < 0 ||
        nn_model_add(m, "voice.release", 2, sr) < 0 || nn_model_add(m, "voice.info", 1, si) < 0 ||
        nn_model_alloc(m) != 0) {
        seterr(err, errlen, "out of memory");
        goto done;
    }
    float *p = (float *)nn_model_find(m, "voice.path")->data;
    for (int k = 0; k < v->n_path; k++) {
        p[k * (1 + Z)] = v->path_pitch[k];
        memcpy(p + k * (1 + Z) + 1, v->path_z[k], sizeof(float) * (size_t)Z);
    }
    memcpy(nn_model_find(m, "voice.hold")->data, v->hold_db, sizeof v->hold_db);
    memcpy(nn_model_find(m, "voice.release")->data, v->release_db, sizeof v->release_db);
    float info[8] = {v->ref_pitch, v->pitch_slope_db, v->tail_slope_db_s, v->gain_db, v->lowest, v->highest, 0, 0};
    memcpy(nn_model_find(m, "voice.info")->data, info, sizeof info);
    nn_model_set_int(m, "voice.format", VOICE_DEF_FORMAT);
    nn_model_set_int(m, "voice.zdim", Z);
    nn_model_set_int(m, "voice.decoder_id", v->decoder_id);
    nn_model_set_meta(m, "architecture", "voice");
    nn_model_set_meta(m, "name", v->name);
    nn_model_set_meta(m, "source", v->source[0] ? v->source : "unknown");
    if (command_line) nn_model_set_meta(m, "command_line", command_line);
    char date[32];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    nn_model_set_meta(m, "date", date);
    rc = nn_model_save(m, path, err, errlen);
done:
    nn_model_free(m);
    return rc;
}

static int in_range(const float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        if (!(x[i] >= lo && x[i] <= hi)) return 0;
    return 1;
}

int voice_def_load(voice_def *v, const char *path, const voice_model *decoder, char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    char why[512];
    nn_model *m = nn_model_load(path, why, sizeof why);
    if (!m) return seterr(err, errlen, "%s", why);
    int rc = -1;
    const char *arch = nn_model_meta(m, "architecture");
    int64_t fmt, zdim, id;
    if (!arch || strcmp(arch, "voice")) {
        seterr(err, errlen, "%s is not a voice file (it holds a '%s' model)", path, arch ? arch : "unnamed");
        goto done;
    }
    if (nn_model_get_int(m, "voice.format", &fmt) || fmt != VOICE_DEF_FORMAT) {
        seterr(err, errlen, "%s is a voice file of another format; place the voice again with this bandmate", path);
        goto done;
    }
    if (nn_model_get_int(m, "voice.zdim", &zdim) || zdim < 4 || zdim > VOICE_ZDIM_MAX ||
        nn_model_get_int(m, "voice.decoder_id", &id) || id < 0 || id > 0xffffffffLL) {
        seterr(err, errlen, "%s is damaged (its latent size or decoder is missing or out of range)", path);
        goto done;
    }
    v->zdim = (int)zdim;
    v->decoder_id = (uint32_t)id;
    const nn_tensor *p = nn_model_find(m, "voice.path");
    if (!p || p->ndim != 2 || p->shape[1] != 1 + v->zdim || p->shape[0] < 1 || p->shape[0] > VOICE_PATH_MAX) {
        seterr(err, errlen, "%s is damaged (its place in the latent map is missing or misshapen)", path);
        goto done;
    }
    v->n_path = p->shape[0];
    for (int k = 0; k < v->n_path; k++) {
        v->path_pitch[k] = p->data[k * (1 + v->zdim)];
        memcpy(v->path_z[k], p->data + k * (1 + v->zdim) + 1, sizeof(float) * (size_t)v->zdim);
        if (!(v->path_pitch[k] >= 0 && v->path_pitch[k] <= 127) || (k && v->path_pitch[k] <= v->path_pitch[k - 1]) ||
            !in_range(v->path_z[k], (size_t)v->zdim, -1000, 1000)) {
            seterr(err, errlen, "%s is damaged (its path through the latent map is out of range)", path);
            goto done;
        }
    }
    int shp_h[2] = {VOICE_ENV_LAYERS, VOICE_ENV_HOLD}, shp_r[2] = {VOICE_ENV_LAYERS, VOICE_ENV_RELEASE}, shp_i[1] = {8};
    float *hold = nn_model_bind(m, "voice.hold", 2, shp_h, why, sizeof why);
    float *rel = hold ? nn_model_bind(m, "voice.release", 2, shp_r, why, sizeof why) : NULL;
    float *info = rel ? nn_model_bind(m, "voice.info", 1, shp_i, why, sizeof why) : NULL;
    if (!info) {
        seterr(err, errlen, "%s is damaged (%s)", path, why);
        goto done;
    }
    if (!in_range(hold, VOICE_ENV_LAYERS * VOICE_ENV_HOLD, VOICE_FLOOR_DB, 20) ||
        !in_range(rel, VOICE_ENV_LAYERS * VOICE_ENV_RELEASE, -200, 0) || !in_range(info, 1, 0, 127) ||
        !in_range(info + 1, 1, -10, 10) || !in_range(info + 2, 1, -200, 0) || !in_range(info + 3, 1, -60, 120) ||
        !in_range(info + 4, 2, 0, 127)) {
        seterr(err, errlen, "%s is damaged (its loudness contour or gain is out of range)", path);
        goto done;
    }
    memcpy(v->hold_db, hold, sizeof v->hold_db);
    memcpy(v->release_db, rel, sizeof v->release_db);
    v->ref_pitch = info[0];
    v->pitch_slope_db = info[1];
    v->tail_slope_db_s = info[2];
    v->gain_db = info[3];
    v->lowest = info[4];
    v->highest = info[5];
    const char *name = nn_model_meta(m, "name"), *src = nn_model_meta(m, "source");
    snprintf(v->name, sizeof v->name, "%s", name && voice_name_valid(name) ? name : "unnamed");
    snprintf(v->source, sizeof v->source, "%s", src ? src : "");
    if (decoder && v->zdim != decoder->cfg.zdim) {
        seterr(err, errlen, "%s has a %d-dimensional latent but the decoder's has %d; place the voice again", path,
               v->zdim, decoder->cfg.zdim);
        goto done;
    }
    if (decoder && v->decoder_id != voice_model_id(decoder)) {
        seterr(err, errlen, "%s was placed for another decoder than the one loaded; place the voice again "
                            "(bandmate voice train or make voices)", path);
        goto done;
    }
    rc = 0;
done:
    nn_model_free(m);
    return rc;
}

/* ---- real-time helpers ---- */

void voice_def_z(const voice_def *v, float pitch, float *z)
{
    int Z = v->zdim, k = 0;
    if (v->n_path <= 1 || pitch <= v->path_pitch[0]) {
        memcpy(z, v->path_z[0], sizeof(float) * (size_t)Z);
        return;
    }
    if (pitch >= v->path_pitch[v->n_path - 1]) {
        memcpy(z, v->path_z[v->n_path - 1], sizeof(float) * (size_t)Z);
        return;
    }
    while (k + 2 < v->n_path && pitch > v->path_pitch[k + 1]) k++;
    float f = (pitch - v->path_pitch[k]) / (v->path_pitch[k + 1] - v->path_pitch[k]);
    for (int d = 0; d < Z; d++) z[d] = v->path_z[k][d] + f * (v->path_z[k + 1][d] - v->path_z[k][d]);
}

float voice_def_hold_db(const voice_def *v, int velocity, float pitch, int k)
{
    int l = 0;
    while (l + 2 < VOICE_ENV_LAYERS && velocity > voice_env_velocity[l + 1]) l++;
    float f = (float)(velocity - voice_env_velocity[l]) / (float)(voice_env_velocity[l + 1] - voice_env_velocity[l]);
    if (f < 0) f = 0; /* below 32: the softest layer, then scaled */
    if (f > 1) f = 1;
    int kk = k < VOICE_ENV_HOLD ? k : VOICE_ENV_HOLD - 1;
    float db = v->hold_db[l][kk] + f * (v->hold_db[l + 1][kk] - v->hold_db[l][kk]);
    if (velocity < voice_env_velocity[0]) db += 20.0f * log10f((float)(velocity > 0 ? velocity : 1) / voice_env_velocity[0]);
    if (k >= VOICE_ENV_HOLD) db += v->tail_slope_db_s * (float)(k - VOICE_ENV_HOLD + 1) / VOICE_FRAME_RATE;
    db += v->pitch_slope_db * (pitch - v->ref_pitch);
    return db < VOICE_FLOOR_DB ? VOICE_FLOOR_DB : db;
}

void voice_def_blend(const voice_def *const *v, const float *w, int n, voice_def *out)
{
    int Z = v[0]->zdim;
    out->zdim = Z;
    out->decoder_id = v[0]->decoder_id;
    snprintf(out->name, sizeof out->name, "%s", v[0]->name);
    out->source[0] = 0;
    /* common pitches: a point when every voice is one, else evenly over the anchors' span */
    int paths = 0;
    float lo = 127, hi = 0;
    for (int i = 0; i < n; i++) {
        if (v[i]->n_path > 1) paths = 1;
        if (v[i]->path_pitch[0] < lo) lo = v[i]->path_pitch[0];
        if (v[i]->path_pitch[v[i]->n_path - 1] > hi) hi = v[i]->path_pitch[v[i]->n_path - 1];
    }
    out->n_path = paths && hi > lo ? VOICE_PATH_MAX : 1;
    for (int k = 0; k < out->n_path; k++) {
        float p = out->n_path > 1 ? lo + (hi - lo) * (float)k / (float)(out->n_path - 1) : lo;
        out->path_pitch[k] = p;
        memset(out->path_z[k], 0, sizeof out->path_z[k]);
        for (int i = 0; i < n; i++) {
            float z[VOICE_ZDIM_MAX];
            voice_def_z(v[i], p, z);
            for (int d = 0; d < Z; d++) out->path_z[k][d] += w[i] * z[d];
        }
    }
    memset(out->hold_db, 0, sizeof out->hold_db);
    memset(out->release_db, 0, sizeof out->release_db);
    out->ref_pitch = out->pitch_slope_db = out->tail_slope_db_s = out->gain_db = 0;
    out->lowest = 127;
    out->highest = 0;
    for (int i = 0; i < n; i++) {
        /* contours are moved to a common reference pitch (60) before mixing */
        float shift = v[i]->pitch_slope_db * (60.0f - v[i]->ref_pitch);
        for (int l = 0; l < VOICE_ENV_LAYERS; l++) {
            for (int k = 0; k < VOICE_ENV_HOLD; k++) out->hold_db[l][k] += w[i] * (v[i]->hold_db[l][k] + shift);
            for (int k = 0; k < VOICE_ENV_RELEASE; k++) out->release_db[l][k] += w[i] * v[i]->release_db[l][k];
        }
        out->pitch_slope_db += w[i] * v[i]->pitch_slope_db;
        out->tail_slope_db_s += w[i] * v[i]->tail_slope_db_s;
        out->gain_db += w[i] * v[i]->gain_db;
        if (v[i]->lowest < out->lowest) out->lowest = v[i]->lowest;
        if (v[i]->highest > out->highest) out->highest = v[i]->highest;
    }
    out->ref_pitch = 60.0f;
}

/* ---- placing ---- */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float median(float *x, int n)
{
    if (n <= 0) return NAN;
    qsort(x, (size_t)n, sizeof *x, cmp_float);
    return n % 2 ? x[n / 2] : 0.5f * (x[n / 2 - 1] + x[n / 2]);
}

/* Fills layers that had no notes from their neighbours (6 dB per layer step as a last resort). */
static void fill_layers(float (*c)[VOICE_ENV_HOLD], int len, const int *have)
{
    for (int l = 0; l < VOICE_ENV_LAYERS; l++) {
        if (have[l]) continue;
        int src = -1;
        for (int d = 1; d < VOICE_ENV_LAYERS && src < 0; d++) {
            if (l - d >= 0 && have[l - d]) src = l - d;
            else if (l + d < VOICE_ENV_LAYERS && have[l + d]) src = l + d;
        }
        for (int k = 0; k < len; k++) c[l][k] = src >= 0 ? c[src][k] + 6.0f * (float)(l - src) : -40.0f;
    }
}

/* Gain so that a velocity-100 note, decoded, peaks at TARGET_PEAK_DB of (unweighted) mean-square
 * level wherever it is loudest in the voice's range: the loudness contour is A-weighted, which
 * would make low voices far louder than high ones. */
static void set_gain(voice_def *v, const voice_model *vm)
{
    static _Thread_local voice_frame src[VOICE_ENV_HOLD], dec[VOICE_ENV_HOLD];
    double peak = 0;
    /* at the lowest, the middle and the highest pitch placed: the loudest of them sets the gain */
    const float pitches[3] = {v->lowest, 0.5f * (v->lowest + v->highest), v->highest};
    for (int p = 0; p < 3; p++) {
        float f0 = 440.0f * exp2f((pitches[p] - 69.0f) / 12.0f), z[VOICE_ZDIM_MAX];
        for (int k = 0; k < VOICE_ENV_HOLD; k++) {
            memset(&src[k], 0, sizeof src[k]);
            src[k].f0_hz = f0;
            src[k].loudness_db = voice_def_hold_db(v, 100, pitches[p], k);
            src[k].since_onset_s = (float)k / VOICE_FRAME_RATE;
        }
        voice_def_z(v, pitches[p], z);
        if (voice_model_decode(vm, z, src, VOICE_ENV_HOLD, 48000, dec, NULL, 0) != 0) continue;
        for (int k = 0; k < VOICE_ENV_HOLD; k++) {
            double ms = 0;
            for (int h = 0; h < VOICE_HARMONICS; h++) ms += 0.5 * dec[k].harm[h] * dec[k].harm[h];
            for (int b = 0; b < VOICE_BANDS; b++)
                if (dec[k].noise_db[b] > VOICE_FLOOR_DB) ms += pow(10.0, dec[k].noise_db[b] / 10.0);
            if (ms > peak) peak = ms;
        }
    }
    float g = peak > 0 ? TARGET_PEAK_DB - (float)(10.0 * log10(peak)) : 0.0f;
    v->gain_db = g < -60 ? -60 : g > 120 ? 120 : g;
}

static void tail_slope(voice_def *v)
{
    /* the last half second of the loudest contour, fitted by a line */
    const float *c = v->hold_db[VOICE_ENV_LAYERS - 1];
    int n = VOICE_FRAME_RATE / 2, k0 = VOICE_ENV_HOLD - n;
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int k = k0; k < VOICE_ENV_HOLD; k++) {
        double x = (double)k / VOICE_FRAME_RATE, y = c[k];
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    double s = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    v->tail_slope_db_s = (float)(s > 0 ? 0 : s < -60 ? -60 : s);
}

static void path_from_groups(voice_def *v, const double (*sum)[VOICE_ZDIM_MAX], const long *cnt, const float *pitch,
                             int groups)
{
    int Z = v->zdim;
    v->n_path = 0;
    for (int g = 0; g < groups && v->n_path < VOICE_PATH_MAX; g++) {
        if (!cnt[g]) continue;
        int k = v->n_path++;
        v->path_pitch[k] = pitch[g];
        for (int d = 0; d < Z; d++) v->path_z[k][d] = (float)(sum[g][d] / (double)cnt[g]);
    }
    /* anchors closer than a semitone merge into one */
    for (int k = 1; k < v->n_path; k++)
        if (v->path_pitch[k] <= v->path_pitch[k - 1] + 1.0f) {
            memmove(&v->path_pitch[k], &v->path_pitch[k + 1], sizeof(float) * (size_t)(v->n_path - k - 1));
            memmove(&v->path_z[k], &v->path_z[k + 1], sizeof v->path_z[0] * (size_t)(v->n_path - k - 1));
            v->n_path--;
            k--;
        }
}

int voice_def_from_notes(const voice_model *vm, const voice_note *const *notes, size_t n, const char *name,
                         const char *source, voice_def *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->source, sizeof out->source, "%s", source ? source : "");
    out->zdim = vm->cfg.zdim;
    out->decoder_id = voice_model_id(vm);
    int Z = vm->cfg.zdim, lo = 127, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (notes[i]->pitch < 0) return seterr(err, errlen, "note %zu has no pitch", i);
        if (notes[i]->pitch < lo) lo = notes[i]->pitch;
        if (notes[i]->pitch > hi) hi = notes[i]->pitch;
    }
    if (!n) return seterr(err, errlen, "there are no notes to place the voice from");
    out->lowest = (float)lo;
    out->highest = (float)hi;
    /* the path: up to four registers of equal pitch span */
    enum { REG = 4 };
    int regs = hi - lo >= 24 ? REG : hi - lo >= 12 ? 2 : 1;
    double sum[REG][VOICE_ZDIM_MAX];
    long cnt[REG] = {0};
    double psum[REG] = {0};
    long pcnt[REG] = {0};
    memset(sum, 0, sizeof sum);
    for (size_t i = 0; i < n; i++) {
        const voice_note *nt = notes[i];
        int g = regs > 1 ? (int)((double)(nt->pitch - lo) * regs / (double)(hi - lo + 1)) : 0;
        float s[VOICE_ZDIM_MAX];
        int used = voice_model_place(vm, nt->frames, nt->n_frames, nt->sample_rate, NULL, s);
        for (int d = 0; d < Z; d++) sum[g][d] += s[d];
        cnt[g] += used;
        psum[g] += nt->pitch;
        pcnt[g]++;
    }
    float gp[REG];
    for (int g = 0; g < regs; g++) gp[g] = pcnt[g] ? (float)(psum[g] / pcnt[g]) : 0;
    path_from_groups(out, (const double(*)[VOICE_ZDIM_MAX])sum, cnt, gp, regs);
    if (!out->n_path) return seterr(err, errlen, "no frame of these notes is pitched and loud enough to place a voice");

    /* the pitch slope of the loudness: peaks against pitch, each velocity around its own mean */
    out->ref_pitch = 0.5f * (float)(lo + hi);
    double sxx = 0, sxy = 0;
    for (int l = 0; l < VOICE_ENV_LAYERS; l++) {
        double mp = 0, ml = 0;
        int m = 0;
        float pk[4096], pp[4096];
        for (size_t i = 0; i < n && m < 4096; i++) {
            if (notes[i]->velocity != voice_env_velocity[l]) continue;
            float top = VOICE_FLOOR_DB;
            for (size_t k = 0; k < notes[i]->n_frames; k++)
                if (notes[i]->frames[k].loudness_db > top) top = notes[i]->frames[k].loudness_db;
            pk[m] = top;
            pp[m] = (float)notes[i]->pitch;
            mp += pp[m];
            ml += pk[m];
            m++;
        }
        if (m < 2) continue;
        mp /= m;
        ml /= m;
        for (int i = 0; i < m; i++) {
            sxx += (pp[i] - mp) * (pp[i] - mp);
            sxy += (pp[i] - mp) * (pk[i] - ml);
        }
    }
    float slope = sxx > 0 ? (float)(sxy / sxx) : 0.0f;
    out->pitch_slope_db = slope < -2 ? -2 : slope > 2 ? 2 : slope;

    /* contours: medians over the notes of each velocity (the longest notes for the hold contour) */
    float maxlen = 0;
    for (size_t i = 0; i < n; i++)
        if (notes[i]->length_s > maxlen) maxlen = notes[i]->length_s;
    float *col = malloc(sizeof(float) * n);
    if (!col) return seterr(err, errlen, "out of memory");
    int have_h[VOICE_ENV_LAYERS] = {0}, have_r[VOICE_ENV_LAYERS] = {0};
    for (int l = 0; l < VOICE_ENV_LAYERS; l++) {
        for (int k = 0; k < VOICE_ENV_HOLD; k++) {
            int m = 0;
            for (size_t i = 0; i < n; i++) {
                const voice_note *nt = notes[i];
                if (nt->velocity != voice_env_velocity[l] || nt->length_s < maxlen - 0.01f) continue;
                size_t off = (size_t)lroundf(nt->length_s * VOICE_FRAME_RATE);
                size_t kk = (size_t)k < off ? (size_t)k : off; /* past note-off: the level at note-off */
                if (kk >= nt->n_frames) kk = nt->n_frames - 1;
                col[m++] = nt->frames[kk].loudness_db - out->pitch_slope_db * ((float)nt->pitch - out->ref_pitch);
            }
            if (m) {
                out->hold_db[l][k] = median(col, m);
                have_h[l] = 1;
            }
        }
        for (int k = 0; k < VOICE_ENV_RELEASE; k++) {
            int m = 0;
            for (size_t i = 0; i < n; i++) {
                const voice_note *nt = notes[i];
                if (nt->velocity != voice_env_velocity[l] || nt->length_s <= 0) continue;
                size_t off = (size_t)lroundf(nt->length_s * VOICE_FRAME_RATE);
                if (off >= nt->n_frames) continue;
                size_t kk = off + (size_t)k;
                float at = kk < nt->n_frames ? nt->frames[kk].loudness_db : VOICE_FLOOR_DB;
                col[m++] = at - nt->frames[off].loudness_db;
            }
            if (m) {
                out->release_db[l][k] = median(col, m);
                have_r[l] = 1;
            }
        }
    }
    free(col);
    fill_layers(out->hold_db, VOICE_ENV_HOLD, have_h);
    for (int l = 0; l < VOICE_ENV_LAYERS; l++) {
        if (!have_r[l]) /* a fast generic release */
            for (int k = 0; k < VOICE_ENV_RELEASE; k++) out->release_db[l][k] = -240.0f * (float)k / VOICE_FRAME_RATE;
        /* a release only falls: from 0 at note-off, never rising again */
        float m = 0;
        for (int k = 0; k < VOICE_ENV_RELEASE; k++) {
            float x = out->release_db[l][k];
            if (x < -200) x = -200;
            if (x > m) x = m;
            out->release_db[l][k] = m = x;
        }
        for (int k = 0; k < VOICE_ENV_HOLD; k++) {
            float *x = &out->hold_db[l][k];
            if (*x < VOICE_FLOOR_DB) *x = VOICE_FLOOR_DB;
            if (*x > 20) *x = 20;
        }
    }
    tail_slope(out);
    set_gain(out, vm);
    return 0;
}

int voice_def_from_recording(const voice_model *vm, const voice_frame *fr, size_t n, int sr, const char *name,
                             const char *source, voice_def *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->source, sizeof out->source, "%s", source ? source : "");
    out->zdim = vm->cfg.zdim;
    out->decoder_id = voice_model_id(vm);
    int Z = vm->cfg.zdim;
    /* the path: the recording's pooling frames grouped by pitch into up to four registers */
    float loudest = VOICE_FLOOR_DB;
    for (size_t k = 0; k < n; k++)
        if (fr[k].loudness_db > loudest) loudest = fr[k].loudness_db;
    float plo = 127, phi = 0;
    for (size_t k = 0; k < n; k++)
        if (voice_frame_pools(&fr[k], loudest)) {
            float p = 69.0f + 12.0f * log2f(fr[k].f0_hz / 440.0f);
            if (p < plo) plo = p;
            if (p > phi) phi = p;
        }
    if (phi < plo) return seterr(err, errlen, "no frame of the recording is pitched and loud enough to place a voice");
    out->lowest = floorf(plo < 0 ? 0 : plo);
    out->highest = ceilf(phi > 127 ? 127 : phi);
    enum { REG = 4 };
    int regs = phi - plo >= 24 ? REG : phi - plo >= 12 ? 2 : 1;
    double sum[REG][VOICE_ZDIM_MAX];
    long cnt[REG] = {0};
    double psum[REG] = {0};
    memset(sum, 0, sizeof sum);
    enum { CH = 256 };
    float *x = malloc(sizeof(float) * CH * VOICE_ENC_IN), *z = malloc(sizeof(float) * CH * VOICE_ZDIM_MAX);
    int *grp = malloc(sizeof(int) * CH);
    float *pit = malloc(sizeof(float) * CH);
    if (!x || !z || !grp || !pit) {
        free(x);
        free(z);
        free(grp);
        free(pit);
        return seterr(err, errlen, "out of memory");
    }
    int m = 0;
    for (size_t k = 0; k <= n; k++) {
        if (k < n && voice_frame_pools(&fr[k], loudest) && voice_enc_input(&fr[k], sr, x + (size_t)m * VOICE_ENC_IN)) {
            float p = 69.0f + 12.0f * log2f(fr[k].f0_hz / 440.0f);
            int g = regs > 1 ? (int)((p - plo) * regs / (phi - plo + 1e-3f)) : 0;
            grp[m] = g < 0 ? 0 : g >= regs ? regs - 1 : g;
            pit[m] = p;
            m++;
        }
        if (m == CH || (k == n && m)) {
            voice_model_encode(vm, x, m, z);
            for (int i = 0; i < m; i++) {
                for (int d = 0; d < Z; d++) sum[grp[i]][d] += z[i * Z + d];
                cnt[grp[i]]++;
                psum[grp[i]] += pit[i];
            }
            m = 0;
        }
    }
    free(x);
    free(z);
    free(grp);
    float gp[REG];
    for (int g = 0; g < regs; g++) gp[g] = cnt[g] ? (float)(psum[g] / cnt[g]) : 0;
    path_from_groups(out, (const double(*)[VOICE_ZDIM_MAX])sum, cnt, gp, regs);
    /* the contour after each onset, up to the next one, median over the onsets */
    size_t on[4096];
    int non = 0;
    for (size_t k = 0; k < n && non < 4096; k++)
        if (fr[k].flags & VOICE_ONSET) on[non++] = k;
    if (!non) on[non++] = 0;
    float *col = pit; /* reused: CH >= what a column needs is not guaranteed, so bound it */
    int cap = CH;
    out->ref_pitch = 0.5f * (out->lowest + out->highest);
    float last = -40.0f, base[VOICE_ENV_HOLD];
    for (int k = 0; k < VOICE_ENV_HOLD; k++) {
        int c = 0;
        for (int i = 0; i < non && c < cap; i++) {
            size_t end = i + 1 < non ? on[i + 1] : n;
            if (on[i] + (size_t)k < end) col[c++] = fr[on[i] + k].loudness_db;
        }
        float v = c >= 3 ? median(col, c) : last; /* fewer notes this long: hold the level */
        base[k] = last = v;
    }
    free(pit);
    /* velocity layers: the recording's level at 96, 6 dB per layer step (the recording has one) */
    for (int l = 0; l < VOICE_ENV_LAYERS; l++)
        for (int k = 0; k < VOICE_ENV_HOLD; k++) {
            float db = base[k] + 20.0f * log10f((float)voice_env_velocity[l] / 96.0f);
            out->hold_db[l][k] = db < VOICE_FLOOR_DB ? VOICE_FLOOR_DB : db > 20 ? 20 : db;
        }
    /* a generic release: 60 dB in 0.3 s */
    for (int l = 0; l < VOICE_ENV_LAYERS; l++)
        for (int k = 0; k < VOICE_ENV_RELEASE; k++) {
            float r = -200.0f * (float)k / VOICE_FRAME_RATE;
            out->release_db[l][k] = r < -200 ? -200 : r;
        }
    out->pitch_slope_db = 0;
    tail_slope(out);
    set_gain(out, vm);
    return 0;
}
