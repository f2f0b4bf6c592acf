/* mus_chart.c: the chart sidecar reader. */
#include "engine/musician/mus_chart.h"
#include "engine/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mode_names[] = {"major", "minor", "dorian", "mixolydian",
                                         "aeolian", "phrygian", "lydian", NULL};

int mus_mode_from_name(const char *name)
{
    for (int i = 0; mode_names[i]; i++)
        if (!strcmp(name, mode_names[i])) return i;
    return -1;
}

uint16_t mus_mode_scale(int mode)
{
    /* semitone steps of each mode from its tonic */
    static const uint16_t scales[7] = {
        0xab5, /* major 0 2 4 5 7 9 11 */
        0x5ad, /* minor (natural) 0 2 3 5 7 8 10 */
        0x6ad, /* dorian 0 2 3 5 7 9 10 */
        0x6b5, /* mixolydian 0 2 4 5 7 9 10 */
        0x5ad, /* aeolian */
        0x5ab, /* phrygian 0 1 3 5 7 8 10 */
        0xad5, /* lydian 0 2 4 6 7 9 11 */
    };
    return mode >= 0 && mode < 7 ? scales[mode] : scales[0];
}

void mus_chart_free(mus_chart *c)
{
    free(c->chords);
    free(c->keys);
    memset(c, 0, sizeof *c);
}

static int parse_pcs(const char *s, uint16_t *out)
{
    uint16_t set = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > 11) return -1;
        set |= (uint16_t)(1u << v);
        s = end;
        if (*s == ',') s++;
        else if (*s) return -1;
    }
    *out = set;
    return set ? 0 : -1;
}

int mus_chart_read(const char *path, mus_chart *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "r");
    if (!f) {
        bm_errf(err, errlen, "the chart %s cannot be read", path);
        return -1;
    }
    char line[1024];
    int lineno = 0, capc = 0, capk = 0, bars = -1, ended = -1;
    double last_beat = 0;
    const char *why = NULL;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (lineno == 1) {
            if (strcmp(line, "# bandmate chart 1")) {
                why = "does not start with '# bandmate chart 1'";
                break;
            }
            continue;
        }
        if (!line[0] || line[0] == '#') continue;
        char rec[32] = "", a[96] = "", b[96] = "", d[96] = "", e[96] = "";
        int nf = sscanf(line, "%31s %95s %95s %95s %95s", rec, a, b, d, e);
        if (!strcmp(rec, "id")) snprintf(c->id, sizeof c->id, "%s", a);
        else if (!strcmp(rec, "split")) snprintf(c->split, sizeof c->split, "%s", a);
        else if (!strcmp(rec, "style")) {
            if (nf >= 5) {
                snprintf(c->family, sizeof c->family, "%s", d);
                snprintf(c->genre, sizeof c->genre, "%s", e);
            }
        } else if (!strcmp(rec, "meter")) c->beats_per_bar = atoi(a);
        else if (!strcmp(rec, "tempo")) c->tempo = atof(a);
        else if (!strcmp(rec, "bars")) bars = atoi(a);
        else if (!strcmp(rec, "beats")) c->beats = atoi(a);
        else if (!strcmp(rec, "end")) ended = atoi(a);
        else if (!strcmp(rec, "chord") || !strcmp(rec, "nc") || !strcmp(rec, "key")) {
            double beat = atof(a);
            if (beat < last_beat) {
                why = "has beats that go backwards";
                break;
            }
            last_beat = beat;
            if (!strcmp(rec, "key")) {
                int mode = mus_mode_from_name(d);
                if (nf < 4 || mode < 0) {
                    why = "has a key line it cannot read";
                    break;
                }
                if (c->nkeys == capk) {
                    capk = capk ? capk * 2 : 8;
                    mus_chart_key *k = realloc(c->keys, (size_t)capk * sizeof *k);
                    if (!k) { why = "is too large (out of memory)"; break; }
                    c->keys = k;
                }
                c->keys[c->nkeys++] = (mus_chart_key){beat, atoi(b) % 12, mode};
                continue;
            }
            mus_chart_chord ch = {beat, -1, 0};
            if (!strcmp(rec, "chord")) {
                /* chord BEAT ROOT QUALITY BASS PCS SYMBOL: PCS is the 6th field */
                char pcs[96] = "";
                if (sscanf(line, "%*s %*s %*s %*s %*s %95s", pcs) != 1 || parse_pcs(pcs, &ch.pcs) != 0) {
                    why = "has a chord line it cannot read";
                    break;
                }
                ch.root = atoi(b) % 12;
            }
            if (c->nchords == capc) {
                capc = capc ? capc * 2 : 64;
                mus_chart_chord *k = realloc(c->chords, (size_t)capc * sizeof *k);
                if (!k) { why = "is too large (out of memory)"; break; }
                c->chords = k;
            }
            c->chords[c->nchords++] = ch;
        }
    }
    fclose(f);
    if (!why && lineno == 0) why = "is empty";
    if (!why && (c->beats_per_bar < 1 || c->beats_per_bar > 32)) why = "has no meter line";
    if (!why && (c->nchords == 0 || c->chords[0].beat > 0)) why = "has no chord at beat 0";
    if (!why && (bars < 0 || bars * c->beats_per_bar != c->beats || ended != c->beats))
        why = "has bars, beats and end that disagree";
    if (why) {
        bm_errf(err, errlen, "the chart %s %s (line %d)", path, why, lineno);
        mus_chart_free(c);
        return -1;
    }
    return 0;
}

int mus_chart_chord_at(const mus_chart *c, double beat)
{
    int lo = 0, hi = c->nchords - 1, ans = -1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (c->chords[mid].beat <= beat + 1e-9) {
            ans = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return ans;
}
