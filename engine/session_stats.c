/* session_stats.c: a session's notes, tempo, reaction and answer latencies, read from its MIDI file. */
#include "engine/session_stats.h"
#include "engine/smf.h"
#include "engine/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct snote {
    double on, off;   /* seconds */
    uint64_t tick;    /* of the note-on */
    int part, pitch;
} snote;

typedef struct session {
    smf *s;
    smf_tempo_map map;
    snote *notes;     /* every part's, sorted by onset */
    int n;
} session;

void session_timing_defaults(bm_session_timing *t)
{
    t->sample_rate = 48000;
    t->block = 256;
    t->lookahead_ms = 30;
    t->steps_per_beat = 4;
    t->phrase_rest_beats = 1;
}

static int part_of_track(const char *name)
{
    for (int p = 0; p < BM_NUM_PARTS; p++)
        if (!strcmp(name, bm_part_name(p))) return p;
    return -1;
}

static int cmp_note(const void *a, const void *b)
{
    const snote *x = a, *y = b;
    return (x->on > y->on) - (x->on < y->on);
}

static void session_free(session *ss)
{
    free(ss->notes);
    if (ss->s) {
        smf_tempo_map_free(&ss->map);
        smf_free(ss->s);
    }
}

static int session_load(const char *path, session *ss, char *err, size_t errlen)
{
    memset(ss, 0, sizeof *ss);
    if (smf_read_file(path, &ss->s, err, errlen) != 0) return -1;
    smf_tempo_map_build(ss->s, &ss->map);
    size_t cap = 0;
    for (int t = 0; t < ss->s->ntracks; t++) cap += ss->s->tracks[t].n;
    ss->notes = malloc((cap + 1) * sizeof *ss->notes);
    if (!ss->notes) {
        bm_errf(err, errlen, "out of memory reading %s", path);
        session_free(ss);
        return -1;
    }
    int named = 0;
    for (int t = 0; t < ss->s->ntracks; t++) {
        int part = part_of_track(ss->s->tracks[t].name);
        if (part < 0) continue;
        named++;
        int open[16][128];
        for (int c = 0; c < 16; c++)
            for (int k = 0; k < 128; k++) open[c][k] = -1;
        for (size_t i = 0; i < ss->s->tracks[t].n; i++) {
            const smf_event *e = &ss->s->tracks[t].events[i];
            if (e->kind != SMF_MIDI || e->nbytes < 3) continue;
            int type = e->bytes[0] & 0xf0, ch = e->bytes[0] & 0x0f, key = e->bytes[1] & 0x7f;
            double at = smf_tempo_map_seconds(&ss->map, e->tick);
            if (type == 0x90 && e->bytes[2]) {
                if (open[ch][key] >= 0) ss->notes[open[ch][key]].off = at; /* retriggered */
                snote *n = &ss->notes[ss->n];
                *n = (snote){at, -1, e->tick, part, key};
                open[ch][key] = ss->n++;
            } else if (type == 0x80 || type == 0x90) {
                if (open[ch][key] >= 0) ss->notes[open[ch][key]].off = at;
                open[ch][key] = -1;
            }
        }
    }
    if (!named) {
        bm_errf(err, errlen, "%s has no tracks named human, bass, drums, comping or lead: it is not a bandmate session", path);
        session_free(ss);
        return -1;
    }
    for (int i = 0; i < ss->n; i++)
        if (ss->notes[i].off < ss->notes[i].on) ss->notes[i].off = ss->notes[i].on; /* never released */
    qsort(ss->notes, (size_t)ss->n, sizeof *ss->notes, cmp_note);
    return 0;
}

static double bpm_at_tick(const session *ss, uint64_t tick)
{
    size_t k = 0;
    while (k + 1 < ss->map.n && ss->map.tick[k + 1] <= tick) k++;
    if (!ss->map.n || ss->map.sec_per_tick[k] <= 0) return 120;
    return 60.0 / (ss->map.sec_per_tick[k] * ss->s->division);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double session_percentile(double *v, int n, double p)
{
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    int i = (int)floor(p / 100.0 * (n - 1) + 0.5);
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

bm_latency session_latency(double *v, int n)
{
    bm_latency l = {n, 0, 0, 0};
    if (n <= 0) return l;
    l.median = session_percentile(v, n, 50);
    l.p90 = session_percentile(v, n, 90);
    l.max = v[n - 1];
    return l;
}

/* The frame of the musician's poll that planned a band note: the first period boundary at or after
 * its grid step's start less the lookahead. */
static int64_t planned_frame(const session *ss, const snote *n, const bm_session_timing *t)
{
    double beat = (double)n->tick / ss->s->division;
    double step_beat = floor(beat * t->steps_per_beat + 1e-6) / t->steps_per_beat;
    uint64_t step_tick = (uint64_t)llround(step_beat * ss->s->division);
    double need = (smf_tempo_map_seconds(&ss->map, step_tick) - t->lookahead_ms * 1e-3) * t->sample_rate;
    if (need <= 0) return t->block;
    return (int64_t)ceil(need / t->block - 1e-9) * t->block;
}

/* Measures a loaded session; the reaction and answer latencies also go to react and answer (at
 * most maxr and maxa of them; either may be NULL). */
static int measure(const session *ss, const bm_session_timing *t, bm_session_stats *out, double *react, int maxr,
                   int *nreact, double *answer, int maxa, int *nanswer)
{
    memset(out, 0, sizeof *out);
    double *lat = malloc(((size_t)ss->n + 1) * sizeof *lat);
    if (!lat) return -1;
    uint64_t first_tick = 0, last_tick = 0;
    for (int i = 0; i < ss->n; i++) {
        out->notes[ss->notes[i].part]++;
        if (i == 0) first_tick = ss->notes[i].tick;
        if (ss->notes[i].tick > last_tick) last_tick = ss->notes[i].tick;
        if (ss->notes[i].off > out->seconds) out->seconds = ss->notes[i].off;
    }
    out->bpm_start = bpm_at_tick(ss, first_tick);
    out->bpm_end = bpm_at_tick(ss, last_tick);

    /* reactions */
    int nl = 0;
    for (int i = 0; i < ss->n; i++) {
        const snote *h = &ss->notes[i];
        if (h->part != BM_PART_HUMAN) continue;
        int64_t th = (int64_t)llround(h->on * t->sample_rate);
        int64_t heard = (th / t->block + 1) * t->block; /* the musician's poll after its period */
        for (int k = i + 1; k < ss->n; k++) {
            const snote *b = &ss->notes[k];
            if (b->part == BM_PART_HUMAN || b->on < h->on) continue;
            if (planned_frame(ss, b, t) < heard) continue;
            lat[nl++] = (b->on - h->on) * 1e3;
            break;
        }
    }
    if (react) {
        *nreact = nl < maxr ? nl : maxr;
        memcpy(react, lat, (size_t)*nreact * sizeof *lat);
    }
    out->reaction = session_latency(lat, nl);

    /* phrases and the lead's answers */
    int nb = 0;
    for (int i = 0; i < ss->n; i++) {
        const snote *h = &ss->notes[i];
        if (h->part != BM_PART_HUMAN) continue;
        double end = h->off;
        int next = -1;
        for (int k = 0; k < i; k++) /* the phrase's end: the latest release among notes begun by then */
            if (ss->notes[k].part == BM_PART_HUMAN && ss->notes[k].off > end) end = ss->notes[k].off;
        for (int k = i + 1; k < ss->n; k++)
            if (ss->notes[k].part == BM_PART_HUMAN) {
                next = k;
                break;
            }
        if (next >= 0 && ss->notes[next].on <= end) continue; /* still inside the phrase */
        double rest_s = t->phrase_rest_beats * 60.0 / bpm_at_tick(ss, h->tick);
        if (next >= 0 && ss->notes[next].on - end < rest_s) continue;
        out->phrases++;
        double until = next >= 0 ? ss->notes[next].on : 1e300;
        for (int k = 0; k < ss->n; k++) {
            const snote *b = &ss->notes[k];
            if (b->part != BM_PART_LEAD || b->on < end) continue;
            if (b->on < until) {
                lat[nb++] = (b->on - end) * 1e3;
                out->answered++;
            }
            break;
        }
    }
    if (answer) {
        *nanswer = nb < maxa ? nb : maxa;
        memcpy(answer, lat, (size_t)*nanswer * sizeof *lat);
    }
    out->answer = session_latency(lat, nb);
    free(lat);
    return 0;
}

int session_stats_read(const char *session_mid, const bm_session_timing *t, bm_session_stats *out, char *err,
                       size_t errlen)
{
    return session_latencies(session_mid, t, out, NULL, 0, NULL, NULL, 0, NULL, err, errlen);
}

int session_latencies(const char *session_mid, const bm_session_timing *t, bm_session_stats *out, double *react,
                      int maxr, int *nreact, double *answer, int maxa, int *nanswer, char *err, size_t errlen)
{
    session ss;
    if (session_load(session_mid, &ss, err, errlen) != 0) return -1;
    int rc = measure(&ss, t, out, react, maxr, nreact, answer, maxa, nanswer);
    if (rc != 0) bm_errf(err, errlen, "out of memory measuring %s", session_mid);
    session_free(&ss);
    return rc;
}

void session_stats_print(const bm_session_stats *s, FILE *f, const char *indent)
{
    fprintf(f, "%sthe performer: %d notes; the band: bass %d, drums %d, comping %d, lead %d notes\n", indent,
            s->notes[BM_PART_HUMAN], s->notes[BM_PART_BASS], s->notes[BM_PART_DRUMS], s->notes[BM_PART_COMPING],
            s->notes[BM_PART_LEAD]);
    if (fabs(s->bpm_start - s->bpm_end) < 0.05)
        fprintf(f, "%stempo: %.1f BPM throughout\n", indent, s->bpm_start);
    else
        fprintf(f, "%stempo: %.1f BPM at the first note, %.1f BPM at the last\n", indent, s->bpm_start, s->bpm_end);
    if (s->reaction.n)
        fprintf(f, "%sreaction (performer's note -> the first band note that could hear it): median %.0f ms, 90%% %.0f ms, max %.0f ms over %d notes\n",
                indent, s->reaction.median, s->reaction.p90, s->reaction.max, s->reaction.n);
    else
        fprintf(f, "%sreaction: the band played no note after hearing the performer\n", indent);
    if (s->phrases)
        fprintf(f, "%sanswers (phrase end -> the band's first lead note): %d of %d phrases answered%s", indent, s->answered,
                s->phrases, s->answer.n ? "" : "\n");
    if (s->phrases && s->answer.n)
        fprintf(f, ", median %.0f ms, 90%% %.0f ms\n", s->answer.median, s->answer.p90);
}

int session_chord_ratio(const char *session_mid, const uint16_t *chord, int nbeats, double *ratio, double *overall,
                        char *err, size_t errlen)
{
    session ss;
    if (session_load(session_mid, &ss, err, errlen) != 0) return -1;
    long in_all = 0, all = 0;
    for (int b = 0; b < nbeats; b++) {
        long in = 0, n = 0;
        for (int i = 0; i < ss.n; i++) {
            const snote *x = &ss.notes[i];
            if (x->part != BM_PART_BASS && x->part != BM_PART_COMPING && x->part != BM_PART_LEAD) continue;
            if ((int)(x->tick / (uint64_t)ss.s->division) != b) continue;
            n++;
            in += (chord[b] >> (x->pitch % 12)) & 1;
        }
        ratio[b] = n ? (double)in / (double)n : -1;
        in_all += in;
        all += n;
    }
    *overall = all ? (double)in_all / (double)all : 0;
    session_free(&ss);
    return 0;
}
