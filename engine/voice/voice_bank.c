/* voice_bank.c: voice specs, the voices folder, and building neural instruments from them. */
#include "engine/voice/voice_bank.h"
#include "engine/voice/synth_neural.h"
#include "engine/voice/voicedef.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A voice given as a file rather than a name in the voices folder: a path ending in .bmnn. */
static int is_path(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && !strcmp(name + n - 5, ".bmnn");
}

int voice_spec_parse(const char *text, voice_spec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text) {
        snprintf(err, errlen, "the voice is empty; name one (e.g. \"strings\") or a morph (\"strings,flute@0.3\")");
        return -1;
    }
    char buf[1200];
    if (strlen(text) >= sizeof buf) {
        snprintf(err, errlen, "the voice '%.40s...' is too long", text);
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", text);
    char *at = strchr(buf, '@');
    if (at) *at++ = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        size_t len = strlen(tok);
        while (len && tok[len - 1] == ' ') tok[--len] = 0;
        if (out->n == VOICE_SPEC_MAX) {
            snprintf(err, errlen, "'%s' morphs between more than %d voices", text, VOICE_SPEC_MAX);
            return -1;
        }
        if (!is_path(tok) && !voice_name_valid(tok)) {
            snprintf(err, errlen, "'%s' is not a voice name (letters, digits, _ - . +)", tok);
            return -1;
        }
        if (len >= sizeof out->names[0]) {
            snprintf(err, errlen, "the voice path '%.40s...' is too long", tok);
            return -1;
        }
        snprintf(out->names[out->n++], sizeof out->names[0], "%s", tok);
    }
    if (!out->n) {
        snprintf(err, errlen, "'%s' names no voice", text);
        return -1;
    }
    if (at) {
        char *end;
        double x = strtod(at, &end), y = 0;
        if (*end == ',') y = strtod(end + 1, &end);
        if (*end || !(x >= 0 && x <= 1) || !(y >= 0 && y <= 1)) {
            snprintf(err, errlen, "the morph position in '%s' must be X or X,Y between 0 and 1", text);
            return -1;
        }
        out->x = (float)x;
        out->y = (float)y;
    }
    if (out->n == 1 && at) {
        snprintf(err, errlen, "'%s' has a morph position but one voice; morph between two or four", text);
        return -1;
    }
    return 0;
}

void voice_spec_format(const voice_spec *s, char *out, size_t len)
{
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < s->n && k < len; i++) k += (size_t)snprintf(out + k, len - k, "%s%s", i ? "," : "", s->names[i]);
    if (s->n > 1 && k < len) {
        if (s->n > 2) snprintf(out + k, len - k, "@%g,%g", s->x, s->y);
        else snprintf(out + k, len - k, "@%g", s->x);
    }
}

static int has_decoder(const char *dir)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/decoder.bmnn", dir);
    return access(p, R_OK) == 0;
}

int voice_dir_find(char *out, size_t len)
{
    const char *env = getenv("BANDMATE_VOICES");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return has_decoder(out) ? 0 : -1;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char cand[6][PATH_MAX];
    int nc = 0;
    snprintf(cand[nc++], PATH_MAX, "voices");
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(cand[nc++], PATH_MAX, "%.*s/voices", PATH_MAX - 16, exe);
            snprintf(cand[nc++], PATH_MAX, "%.*s/../voices", PATH_MAX - 16, exe);
            snprintf(cand[nc++], PATH_MAX, "%.*s/../../voices", PATH_MAX - 16, exe);
        }
    }
    snprintf(cand[nc++], PATH_MAX, "/usr/local/share/bandmate/voices");
    snprintf(cand[nc++], PATH_MAX, "/usr/share/bandmate/voices");
    for (int i = 0; i < nc; i++)
        if (has_decoder(cand[i])) {
            snprintf(out, len, "%s", cand[i]);
            return 0;
        }
    snprintf(out, len, "voices");
    return -1;
}

void voice_path_for(const char *dir, const char *name, char *out, size_t len)
{
    if (is_path(name)) snprintf(out, len, "%s", name);
    else snprintf(out, len, "%s/%s.bmnn", dir, name);
}

bm_instrument *voice_instrument_create(const char *text, int polyphony, double sr, char *err, size_t errlen)
{
    voice_spec sp;
    if (voice_spec_parse(text, &sp, err, errlen) != 0) return NULL;
    char dir[PATH_MAX];
    if (is_path(sp.names[0])) { /* the decoder beside the first voice file */
        snprintf(dir, sizeof dir, "%s", sp.names[0]);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else snprintf(dir, sizeof dir, ".");
        if (!has_decoder(dir) && voice_dir_find(dir, sizeof dir) != 0) {
            snprintf(err, errlen, "no decoder.bmnn beside %s or in a voices folder", sp.names[0]);
            return NULL;
        }
    } else if (voice_dir_find(dir, sizeof dir) != 0) {
        snprintf(err, errlen, "no voices folder with a decoder.bmnn was found (set BANDMATE_VOICES, or run 'make voices')");
        return NULL;
    }
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/decoder.bmnn", dir);
    voice_model vm;
    if (voice_model_load(&vm, path, err, errlen) != 0) return NULL;
    voice_def *defs = malloc(sizeof *defs * VOICE_SPEC_MAX);
    const voice_def *ptr[VOICE_SPEC_MAX];
    bm_instrument *in = NULL;
    if (!defs) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < sp.n; i++) {
        voice_path_for(dir, sp.names[i], path, sizeof path);
        if (access(path, F_OK) != 0) {
            char names[8][64];
            int nn = voice_list(dir, names, 8);
            char list[600] = "";
            for (int k = 0; k < nn; k++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", k ? ", " : "", names[k]);
            }
            snprintf(err, errlen, "there is no voice '%s' (%s is missing)%s%s", sp.names[i], path,
                     nn ? "; voices here: " : "", list);
            goto done;
        }
        if (voice_def_load(&defs[i], path, &vm, err, errlen) != 0) goto done;
        ptr[i] = &defs[i];
    }
    in = synth_neural_create(&vm, ptr, sp.n, polyphony, sr, err, errlen);
    if (in && sp.n > 1) {
        in->ops->set_param(in, BM_SYNTH_MORPH_X, sp.x);
        in->ops->set_param(in, BM_SYNTH_MORPH_Y, sp.y);
    }
done:
    free(defs);
    voice_model_free(&vm);
    return in;
}

static int cmp_name(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

int voice_list(const char *dir, char (*names)[64], int max)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t len = strlen(e->d_name);
        if (len < 6 || len >= 64 + 5 || strcmp(e->d_name + len - 5, ".bmnn") || !strcmp(e->d_name, "decoder.bmnn"))
            continue;
        snprintf(names[n], 64, "%.*s", (int)(len - 5), e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, (size_t)n, 64, cmp_name);
    return n;
}

int voice_part_set(bm_engine *e, int part, const char *spec, char *err, size_t errlen)
{
    if (part < 0 || part >= BM_NUM_PARTS) {
        snprintf(err, errlen, "there is no part %d", part);
        return -1;
    }
    bm_instrument *in = voice_instrument_create(spec, part == BM_PART_BASS ? 4 : 16, engine_sample_rate(e), err, errlen);
    if (!in) return -1;
    bm_command c = {BM_CMD_INSTRUMENT, part, 0, in};
    if (engine_command(e, &c) != 0) {
        instrument_destroy(in);
        snprintf(err, errlen, "the engine is busy; try again");
        return -1;
    }
    return 0;
}

int voice_part_morph(bm_engine *e, int part, float x, float y)
{
    bm_command cx = {BM_CMD_MORPH, part, x, NULL}, cy = {BM_CMD_MORPH_Y, part, y, NULL};
    if (engine_command(e, &cx) != 0) return -1;
    if (y >= 0 && engine_command(e, &cy) != 0) return -1;
    return 0;
}
