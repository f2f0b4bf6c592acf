/* mus_corpus.c: MIDI files and charts into songs on the 4-steps-per-beat grid. */
#include "engine/musician/mus_corpus.h"
#include "engine/musician/mus_chart.h"
#include "engine/smf.h"
#include "engine/util.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_STEPS (1 << 20)   /* about 18 hours at 4 steps per beat, 60 BPM */
#define BASS_SPLIT 55         /* a "bass" whose median pitch is at or above G3 is comping */

double mus_unswing(double beat)
{
    double b = floor(beat), f = beat - b;
    return b + (f < 2.0 / 3.0 ? f * 0.75 : 0.5 + (f - 2.0 / 3.0) * 1.5);
}

double mus_swing(double beat, double amount)
{
    if (amount <= 0) return beat;
    if (amount > 1) amount = 1;
    double b = floor(beat), f = beat - b, k = 0.5 + amount / 6.0;
    return b + (f < 0.5 ? f * (k / 0.5) : k + (f - 0.5) * ((1.0 - k) / 0.5));
}

typedef struct note {
    uint64_t on, off;   /* ticks */
    uint8_t pitch, vel;
} note;

typedef struct unit {   /* the notes of one channel of one track */
    int track, channel, program;
    char name[64];
    note *notes;
    int n, cap;
    int part;           /* MUS part, or -1 */
    const char *why;    /* skip reason when part < 0 */
} unit;

static int unit_add(unit *u, note nt)
{
    if (u->n == u->cap) {
        int cap = u->cap ? u->cap * 2 : 64;
        note *p = realloc(u->notes, (size_t)cap * sizeof *p);
        if (!p) return -1;
        u->notes = p;
        u->cap = cap;
    }
    u->notes[u->n++] = nt;
    return 0;
}

static int cmp_u8(const void *a, const void *b) { return *(const uint8_t *)a - *(const uint8_t *)b; }

static int median_pitch(const unit *u)
{
    uint8_t *p = malloc((size_t)u->n);
    if (!p) return 60;
    for (int i = 0; i < u->n; i++) p[i] = u->notes[i].pitch;
    qsort(p, (size_t)u->n, 1, cmp_u8);
    int m = p[(u->n - 1) / 2];
    free(p);
    return m;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t median_length(const unit *u)
{
    uint64_t *p = malloc((size_t)u->n * sizeof *p);
    if (!p) return 1000;
    for (int i = 0; i < u->n; i++) p[i] = u->notes[i].off - u->notes[i].on;
    qsort(p, (size_t)u->n, sizeof *p, cmp_u64);
    uint64_t m = p[(u->n - 1) / 2];
    free(p);
    return m;
}

/* Average number of notes sounding when any sounds (by note-weighted overlap). */
static double polyphony(const unit *u)
{
    if (u->n < 2) return 1;
    long overlaps = 0;
    for (int i = 0; i < u->n; i++) {
        for (int j = i + 1; j < u->n && j < i + 16; j++)
            if (u->notes[j].on < u->notes[i].off && u->notes[j].on >= u->notes[i].on) overlaps++;
    }
    return 1.0 + (double)overlaps / u->n;
}

static int word_is(const char *w, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(w, list[i])) return 1;
    return 0;
}

/* The part a unit plays, by name, channel, program and content (docs/musician.md). */
static void classify(unit *u, int division)
{
    static const char *const drums[] = {"drum", "drums", "perc", "percussion", "kit", "drumkit", NULL};
    static const char *const bass[] = {"bass", "walk", "basses", "contrabass", NULL};
    static const char *const comp[] = {"chord", "chords", "arpeggio", "plectrum", "scale", "comping",
                                       "comp", "piano", "keys", "keyboard", "guitar", "organ", "pad",
                                       "rhodes", "epiano", "strings", "accomp", "accompaniment",
                                       "rhythm", "harmony", NULL};
    static const char *const lead[] = {"solo", "melody", "aria", "lead", "vocal", "vocals", "voice",
                                       "sing", "singer", "sax", "saxophone", "trumpet", "flute",
                                       "clarinet", "violin", "tune", NULL};
    u->part = -1;
    u->why = NULL;
    if (u->n == 0) {
        u->why = "no notes";
        return;
    }
    char w[64];
    int k = 0;
    for (const char *s = u->name; *s && k < 63 && isalpha((unsigned char)*s); s++)
        w[k++] = (char)tolower((unsigned char)*s);
    w[k] = 0;
    int by_name = -1;
    if (word_is(w, drums)) by_name = MUS_DRUMS;
    else if (word_is(w, bass)) by_name = MUS_BASS;
    else if (word_is(w, comp)) by_name = MUS_COMP;
    else if (word_is(w, lead)) by_name = MUS_LEAD;
    if (u->channel == 9 || by_name == MUS_DRUMS) {
        u->part = MUS_DRUMS;
        return;
    }
    if (median_length(u) < (uint64_t)(division / 16 > 0 ? division / 16 : 1)) {
        u->why = "a percussion pattern on a pitched channel (notes shorter than a 64th)";
        return;
    }
    int part = by_name;
    if (part < 0 && u->program >= 0) {
        int p = u->program;
        if (p >= 32 && p <= 39) part = MUS_BASS;
        else if (p <= 31 || (p >= 48 && p <= 55) || (p >= 88 && p <= 95)) part = MUS_COMP;
        else if ((p >= 40 && p <= 47) || (p >= 56 && p <= 87)) part = MUS_LEAD;
    }
    if (part < 0) { /* register and polyphony */
        double poly = polyphony(u);
        int med = median_pitch(u);
        if (poly >= 1.8) part = MUS_COMP;
        else if (med < BASS_SPLIT - 7) part = MUS_BASS;
        else if (u->program >= 96 && u->program <= 127) {
            u->why = "a sound-effect or ethnic program, not a band part";
            return;
        } else part = MUS_LEAD;
    }
    if (part == MUS_BASS && median_pitch(u) >= BASS_SPLIT) part = MUS_COMP; /* a riff in the middle */
    u->part = part;
}

static void free_units(unit *u, int n)
{
    for (int i = 0; i < n; i++) free(u[i].notes);
    free(u);
}

/* Collects the notes of each (track, channel) of a file. */
static int read_units(const smf *s, unit **out, int *nout)
{
    int cap = 16, n = 0;
    unit *us = calloc((size_t)cap, sizeof *us);
    if (!us) return -1;
    int program[16];
    for (int c = 0; c < 16; c++) program[c] = -1;
    for (int t = 0; t < s->ntracks; t++) {
        const smf_track *tr = &s->tracks[t];
        int first = n;
        uint64_t on_tick[16][128];
        uint8_t on_vel[16][128], on_count[16][128];
        memset(on_count, 0, sizeof on_count);
        for (size_t i = 0; i <= tr->n; i++) {
            int end = i == tr->n;
            const smf_event *e = end ? NULL : &tr->events[i];
            if (!end && e->kind != SMF_MIDI) continue;
            int st = end ? 0 : e->bytes[0] & 0xf0, ch = end ? 0 : e->bytes[0] & 0x0f;
            if (!end && st == 0xc0 && e->nbytes >= 2) {
                program[ch] = e->bytes[1];
                for (int k = first; k < n; k++)
                    if (us[k].channel == ch && us[k].n == 0) us[k].program = e->bytes[1];
                continue;
            }
            int is_on = !end && st == 0x90 && e->nbytes >= 3 && e->bytes[2] > 0;
            int is_off = !end && (st == 0x80 || (st == 0x90 && e->nbytes >= 3 && e->bytes[2] == 0));
            if (end) { /* close notes left hanging at the track's end */
                uint64_t last = tr->n ? tr->events[tr->n - 1].tick : 0;
                for (int c = 0; c < 16; c++)
                    for (int p = 0; p < 128; p++)
                        if (on_count[c][p]) {
                            int k;
                            for (k = first; k < n && us[k].channel != c; k++) {}
                            if (k < n) {
                                note nt = {on_tick[c][p], last > on_tick[c][p] ? last : on_tick[c][p] + 1,
                                           (uint8_t)p, on_vel[c][p]};
                                if (unit_add(&us[k], nt)) goto oom;
                            }
                            on_count[c][p] = 0;
                        }
                break;
            }
            if (!is_on && !is_off) continue;
            int pitch = e->bytes[1] & 0x7f;
            int k;
            for (k = first; k < n && us[k].channel != ch; k++) {}
            if (k == n && !is_on) continue; /* a release of a note never begun */
            if (k == n) {
                if (n == cap) {
                    cap *= 2;
                    unit *p = realloc(us, (size_t)cap * sizeof *p);
                    if (!p) goto oom;
                    us = p;
                }
                memset(&us[n], 0, sizeof us[n]);
                us[n].track = t;
                us[n].channel = ch;
                us[n].program = program[ch];
                snprintf(us[n].name, sizeof us[n].name, "%s", tr->name);
                n++;
            }
            if (on_count[ch][pitch]) { /* a note ends where the same key starts again */
                note nt = {on_tick[ch][pitch], e->tick > on_tick[ch][pitch] ? e->tick : on_tick[ch][pitch] + 1,
                           (uint8_t)pitch, on_vel[ch][pitch]};
                if (unit_add(&us[k], nt)) goto oom;
                on_count[ch][pitch] = 0;
            }
            if (is_on) {
                on_tick[ch][pitch] = e->tick;
                on_vel[ch][pitch] = e->bytes[2];
                on_count[ch][pitch] = 1;
            }
        }
    }
    *out = us;
    *nout = n;
    return 0;
oom:
    free_units(us, n);
    return -1;
}

void mus_song_free(mus_song *s)
{
    free(s->path);
    free(s->frame);
    free(s->hsum);
    free(s->chart_root);
    free(s->chart_pcs);
    free(s->key_tonic);
    free(s->key_mode);
    memset(s, 0, sizeof *s);
}

/* Per part and step, the quantised notes' onsets and sounding sets. */
typedef struct acc {
    uint16_t onset_pcs, sound_pcs;
    uint8_t lo, hi, on_lo, on_hi;
    uint16_t vel_sum;
    uint8_t n_on, sounding_before; /* a note begun earlier sounds here */
    uint8_t drum_vel[MUS_NPIECES];
} acc;

static int64_t quantise(uint64_t tick, int division, int swing)
{
    double beat = (double)tick / division;
    if (swing) beat = mus_unswing(beat);
    return (int64_t)floor(beat * MUS_STEPS_PER_BEAT + 0.5);
}

/* Swung or triplet feel: more onsets near 1/3 and 2/3 of a beat than near its quarters. */
static int detect_swing(const unit *us, int n, int division)
{
    long tri = 0, quad = 0;
    for (int i = 0; i < n; i++) {
        if (us[i].part < 0) continue;
        for (int j = 0; j < us[i].n; j++) {
            double b = (double)us[i].notes[j].on / division, f = b - floor(b);
            if (fabs(f - 1.0 / 3) < 0.04 || fabs(f - 2.0 / 3) < 0.04) tri++;
            else if (fabs(f - 0.25) < 0.04 || fabs(f - 0.5) < 0.04 || fabs(f - 0.75) < 0.04) quad++;
        }
    }
    return tri > quad && tri >= 8;
}

static const char *split_names[] = {"train", "valid", "test"};

int mus_song_read(const char *mid_path, const char *chart_path, mus_song *song, FILE *report,
                  char *why, size_t whylen)
{
    memset(song, 0, sizeof *song);
    mus_vocab_init();
    smf *s = NULL;
    char err[512];
    if (smf_read_file(mid_path, &s, err, sizeof err) != 0) {
        bm_errf(why, whylen, "%s", err);
        return -1;
    }
    mus_chart chart;
    int have_chart = 0;
    if (chart_path) {
        if (mus_chart_read(chart_path, &chart, err, sizeof err) != 0) {
            bm_errf(why, whylen, "%s", err);
            smf_free(s);
            return -1;
        }
        have_chart = 1;
    }
    unit *us = NULL;
    int nu = 0;
    int rc = -1;
    acc *a = NULL;
    if (read_units(s, &us, &nu) != 0) {
        bm_errf(why, whylen, "out of memory reading %s", mid_path);
        goto out;
    }
    int division = s->division > 0 ? s->division : 192;
    for (int i = 0; i < nu; i++) {
        classify(&us[i], division);
        if (us[i].part < 0) song->tracks_skipped++;
        if (us[i].part < 0 && report)
            fprintf(report, "  %s: track %d '%s' channel %d skipped: %s\n", mid_path, us[i].track,
                    us[i].name, us[i].channel + 1, us[i].why);
    }
    /* meter: the chart's, else the first time signature (in quarter-note beats), else 4 */
    int bpb = 4;
    double tempo = 120;
    for (int t = 0; t < s->ntracks; t++)
        for (size_t i = 0; i < s->tracks[t].n; i++) {
            const smf_event *e = &s->tracks[t].events[i];
            if (e->kind == SMF_META && e->meta_type == SMF_META_TIME_SIGNATURE && e->data_len >= 2 && e->tick == 0) {
                const uint8_t *d = s->blob + e->data_off;
                int num = d[0], den = 1 << (d[1] < 6 ? d[1] : 2);
                int q = num * 4 / den;
                if (q >= 1 && q <= 32 && num * 4 % den == 0) bpb = q;
            }
            if (e->kind == SMF_META && e->meta_type == SMF_META_TEMPO && e->data_len == 3 && e->tick == 0) {
                const uint8_t *d = s->blob + e->data_off;
                uint32_t us_q = (uint32_t)d[0] << 16 | (uint32_t)d[1] << 8 | d[2];
                if (us_q) tempo = 60e6 / us_q;
            }
        }
    if (have_chart) {
        bpb = chart.beats_per_bar;
        if (chart.tempo > 0) tempo = chart.tempo;
    }
    int swing = detect_swing(us, nu, division);
    uint64_t last = 0;
    int present = 0;
    for (int i = 0; i < nu; i++) {
        if (us[i].part < 0) continue;
        present |= 1 << us[i].part;
        for (int j = 0; j < us[i].n; j++)
            if (us[i].notes[j].off > last) last = us[i].notes[j].off;
    }
    if (!present) {
        bm_errf(why, whylen, "%s has no track bandmate can read as bass, drums, comping or lead", mid_path);
        goto out;
    }
    int64_t nsteps = (int64_t)ceil((double)last / division * MUS_STEPS_PER_BEAT);
    if (have_chart && chart.beats * MUS_STEPS_PER_BEAT > nsteps) nsteps = (int64_t)chart.beats * MUS_STEPS_PER_BEAT;
    if (nsteps < 1 || nsteps > MAX_STEPS) {
        bm_errf(why, whylen, "%s is %s", mid_path, nsteps < 1 ? "empty" : "too long (over 2^20 grid steps)");
        goto out;
    }
    song->nsteps = (int)nsteps;
    song->beats_per_bar = bpb;
    song->tempo = tempo;
    song->swing = swing;
    song->present = (uint8_t)present;
    song->path = strdup(mid_path);
    song->frame = malloc((size_t)nsteps * sizeof *song->frame);
    song->hsum = calloc((size_t)nsteps * MUS_NPARTS, sizeof *song->hsum);
    a = calloc((size_t)nsteps * MUS_NPARTS, sizeof *a);
    if (!song->path || !song->frame || !song->hsum || !a) {
        bm_errf(why, whylen, "out of memory reading %s", mid_path);
        goto out;
    }
    /* chart per step */
    if (have_chart) {
        song->chart_root = malloc((size_t)nsteps);
        song->chart_pcs = malloc((size_t)nsteps * 2);
        song->key_tonic = malloc((size_t)nsteps);
        song->key_mode = malloc((size_t)nsteps);
        if (!song->chart_root || !song->chart_pcs || !song->key_tonic || !song->key_mode) {
            bm_errf(why, whylen, "out of memory reading %s", mid_path);
            goto out;
        }
        int ci = -1, ki = -1;
        for (int64_t st = 0; st < nsteps; st++) {
            double beat = (double)st / MUS_STEPS_PER_BEAT + 1e-6;
            while (ci + 1 < chart.nchords && chart.chords[ci + 1].beat <= beat) ci++;
            while (ki + 1 < chart.nkeys && chart.keys[ki + 1].beat <= beat) ki++;
            song->chart_root[st] = (int8_t)(ci >= 0 ? chart.chords[ci].root : -1);
            song->chart_pcs[st] = ci >= 0 ? chart.chords[ci].pcs : 0;
            song->key_tonic[st] = (int8_t)(ki >= 0 ? chart.keys[ki].tonic : -1);
            song->key_mode[st] = (uint8_t)(ki >= 0 ? chart.keys[ki].mode : 0);
        }
        snprintf(song->id, sizeof song->id, "%s", chart.id);
        int st = mus_style_from_name(chart.genre);
        song->style = st > 0 ? st : 0;
        song->split = -1;
        for (int k = 0; k < MUS_NSPLITS; k++)
            if (!strcmp(chart.split, split_names[k])) song->split = k;
    } else {
        song->split = -1;
    }
    if (!song->id[0]) {
        const char *base = strrchr(mid_path, '/');
        snprintf(song->id, sizeof song->id, "%s", base ? base + 1 : mid_path);
        char *dot = strrchr(song->id, '.');
        if (dot) *dot = 0;
    }
    /* notes onto the grid */
    for (int i = 0; i < nu; i++) {
        int p = us[i].part;
        if (p < 0) continue;
        for (int j = 0; j < us[i].n; j++) {
            const note *nt = &us[i].notes[j];
            int64_t on = quantise(nt->on, division, swing), off = quantise(nt->off, division, swing);
            if (on >= nsteps) on = nsteps - 1;
            if (off <= on) off = on + 1;
            if (off > nsteps) off = nsteps;
            acc *x = &a[on * MUS_NPARTS + p];
            if (have_chart && song->chart_root[on] >= 0 && p != MUS_DRUMS) {
                song->onsets[p]++;
                if (song->chart_pcs[on] >> (nt->pitch % 12) & 1) song->in_chord[p]++;
            }
            if (p == MUS_DRUMS) {
                int piece = mus_drum_piece(nt->pitch);
                if (piece < 0) continue;
                if (nt->vel > x->drum_vel[piece]) x->drum_vel[piece] = nt->vel;
                x->n_on++;
                x->vel_sum += nt->vel;
                continue;
            }
            x->onset_pcs |= (uint16_t)(1u << (nt->pitch % 12));
            if (!x->on_lo || nt->pitch < x->on_lo) x->on_lo = nt->pitch;
            if (nt->pitch > x->on_hi) x->on_hi = nt->pitch;
            if (x->n_on < 255) x->n_on++;
            x->vel_sum += nt->vel;
            for (int64_t st = on; st < off; st++) {
                acc *y = &a[st * MUS_NPARTS + p];
                y->sound_pcs |= (uint16_t)(1u << (nt->pitch % 12));
                if (!y->lo || nt->pitch < y->lo) y->lo = nt->pitch;
                if (nt->pitch > y->hi) y->hi = nt->pitch;
                if (st > on) y->sounding_before = 1;
            }
        }
    }
    for (int64_t st = 0; st < nsteps; st++) {
        mus_frame f = mus_frame_rest();
        for (int p = 0; p < MUS_NPARTS; p++) {
            const acc *x = &a[st * MUS_NPARTS + p];
            mus_hsum *h = &song->hsum[st * MUS_NPARTS + p];
            h->onset_pcs = x->onset_pcs;
            h->sound_pcs = x->sound_pcs;
            h->lo = x->lo;
            h->hi = x->hi;
            h->n_on = x->n_on;
            h->vel = (uint8_t)(x->n_on ? x->vel_sum / x->n_on : 0);
            if (p == MUS_DRUMS) {
                for (int k = 0; k < MUS_NPIECES; k++)
                    if (x->drum_vel[k]) {
                        h->drums |= (uint16_t)(1u << k);
                        f.drums |= 1ull << (k * MUS_NVEL + mus_vel_class(x->drum_vel[k]));
                    }
                continue;
            }
            int tok = x->n_on ? -1 : x->sounding_before ? MUS_TOK_HOLD : MUS_TOK_REST;
            if (p == MUS_BASS) f.bass = (uint8_t)(tok >= 0 ? tok : mus_mono_token(x->on_lo, MUS_BASS_LOW));
            if (p == MUS_LEAD) f.lead = (uint8_t)(tok >= 0 ? tok : mus_mono_token(x->on_hi, MUS_LEAD_LOW));
            if (p == MUS_COMP) {
                if (x->n_on) {
                    f.comp = h->vel >= MUS_COMP_LOUD_VEL ? MUS_COMP_LOUD : MUS_COMP_SOFT;
                    f.chord = (uint16_t)mus_chord_fit(x->sound_pcs | x->onset_pcs, x->lo % 12);
                } else {
                    f.comp = x->sounding_before ? MUS_COMP_HOLD : MUS_COMP_REST;
                }
            }
        }
        song->frame[st] = f;
    }
    rc = 0;
out:
    free(a);
    free_units(us, nu);
    smf_free(s);
    if (have_chart) mus_chart_free(&chart);
    if (rc) mus_song_free(song);
    return rc;
}

/* ---- folders ---- */

typedef struct pathlist {
    char **p;
    int n, cap;
} pathlist;

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && !strcasecmp(name + n - e, ext);
}

static int walk(const char *dir, pathlist *pl, int depth)
{
    if (depth > 16) return 0;
    DIR *d = opendir(dir);
    if (!d) return depth == 0 ? -1 : 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (depth == 0 && (!strcmp(de->d_name, "rejected") || !strcmp(de->d_name, "work"))) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            walk(path, pl, depth + 1);
        } else if (has_ext(de->d_name, ".mid") || has_ext(de->d_name, ".midi") || has_ext(de->d_name, ".smf")) {
            if (pl->n == pl->cap) {
                int cap = pl->cap ? pl->cap * 2 : 256;
                char **p = realloc(pl->p, (size_t)cap * sizeof *p);
                if (!p) break;
                pl->p = p;
                pl->cap = cap;
            }
            pl->p[pl->n] = strdup(path);
            if (pl->p[pl->n]) pl->n++;
        }
    }
    closedir(d);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static uint32_t hash_name(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static int split_of_path(const char *path, const char *base)
{
    for (int k = 0; k < MUS_NSPLITS; k++) {
        char pat[32];
        snprintf(pat, sizeof pat, "/%s/", split_names[k]);
        if (strstr(path + strlen(base), pat)) return k;
    }
    const char *name = strrchr(path, '/');
    uint32_t h = hash_name(name ? name + 1 : path) % 10;
    return h < 8 ? MUS_SPLIT_TRAIN : h == 8 ? MUS_SPLIT_VALID : MUS_SPLIT_TEST;
}

void mus_corpus_free(mus_corpus *c)
{
    for (int i = 0; i < c->n; i++) mus_song_free(&c->songs[i]);
    free(c->songs);
    memset(c, 0, sizeof *c);
}

int mus_corpus_load(const char *dir, const mus_corpus_opts *o, mus_corpus *c, FILE *report,
                    char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    mus_corpus_opts def = {0};
    if (!o) o = &def;
    pathlist pl = {0};
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || walk(dir, &pl, 0) != 0) {
        bm_errf(err, errlen, "the corpus folder %s does not exist or cannot be read", dir);
        return -1;
    }
    if (pl.n) qsort(pl.p, (size_t)pl.n, sizeof *pl.p, cmp_str);
    c->songs = calloc((size_t)(pl.n ? pl.n : 1), sizeof *c->songs);
    if (!c->songs) {
        for (int i = 0; i < pl.n; i++) free(pl.p[i]);
        free(pl.p);
        bm_errf(err, errlen, "out of memory reading the corpus %s", dir);
        return -1;
    }
    long reasons_nopart = 0, reasons_damaged = 0, reasons_chart = 0, reasons_other = 0;
    FILE *tracks_report = o->quiet ? NULL : report;
    /* a subset is spread evenly over the sorted files, so that it holds every split and style */
    int stride_n = o->max_songs && o->max_songs < pl.n ? o->max_songs : pl.n;
    for (int j = 0; j < stride_n; j++) {
        int i = (int)((long)j * pl.n / stride_n);
        c->files_seen++;
        char chart[4200];
        snprintf(chart, sizeof chart, "%s", pl.p[i]);
        char *dot = strrchr(chart, '.');
        if (dot) snprintf(dot, sizeof chart - (size_t)(dot - chart), ".chart");
        int has_chart = access(chart, R_OK) == 0;
        /* the split is known before reading when the path names it; read anyway when a chart may */
        if (o->splits && !has_chart && !(o->splits >> split_of_path(pl.p[i], dir) & 1)) continue;
        mus_song *sg = &c->songs[c->n];
        char why[1024];
        if (mus_song_read(pl.p[i], has_chart ? chart : NULL, sg, tracks_report, why, sizeof why) != 0) {
            c->files_skipped++;
            if (strstr(why, "no track")) reasons_nopart++;
            else if (strstr(why, "chart")) reasons_chart++;
            else if (strstr(why, "out of memory")) reasons_other++;
            else reasons_damaged++;
            if (report && !o->quiet) fprintf(report, "skipped %s\n", why);
            continue;
        }
        if (sg->split < 0) sg->split = split_of_path(pl.p[i], dir);
        if (o->splits && !(o->splits >> sg->split & 1)) {
            mus_song_free(sg);
            continue;
        }
        c->tracks_skipped += sg->tracks_skipped;
        c->steps[sg->split] += sg->nsteps;
        c->songs_in[sg->split]++;
        c->n++;
    }
    for (int i = 0; i < pl.n; i++) free(pl.p[i]);
    free(pl.p);
    if (report) {
        fprintf(report, "corpus %s: %ld MIDI files, %d songs read (train %d, valid %d, test %d; %ld, %ld, %ld steps)\n",
                dir, c->files_seen, c->n, c->songs_in[0], c->songs_in[1], c->songs_in[2], c->steps[0],
                c->steps[1], c->steps[2]);
        if (c->tracks_skipped)
            fprintf(report, "skipped %ld tracks that play no band part (listed above unless quiet)\n", c->tracks_skipped);
        if (c->files_skipped)
            fprintf(report, "skipped %ld files: %ld damaged or unreadable, %ld with no band part, %ld with a bad chart, %ld other\n",
                    c->files_skipped, reasons_damaged, reasons_nopart, reasons_chart, reasons_other);
    }
    if (c->n == 0) {
        bm_errf(err, errlen, "the corpus folder %s holds no MIDI file bandmate can learn from%s", dir,
                c->files_seen ? " (every file was skipped; the report says why)" : "");
        mus_corpus_free(c);
        return -1;
    }
    return 0;
}
