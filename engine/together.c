/* together.c: `bandmate eval together`: answers, reactions, key change and tempo drift, per mode. */
#include "engine/together.h"
#include "engine/behaviour.h"
#include "engine/cli.h"
#include "engine/cli_util.h"
#include "engine/clock.h"
#include "engine/perfgen.h"
#include "engine/util.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const together_modes[] = {"accompany", "call-and-response", "duet", NULL};

/* ---- tempo following ---- */

typedef struct trace {
    int64_t *frame;
    double *beat;
    int n, cap;
} trace;

static void on_period(void *ctx, bm_engine *e, int64_t start, uint32_t n)
{
    trace *t = ctx;
    if (t->n == t->cap) return;
    t->frame[t->n] = start + n;
    t->beat[t->n] = clock_beat_at(engine_clock(e), start + n);
    t->n++;
}

static double beat_at(const trace *t, double frame)
{
    int lo = 0, hi = t->n - 1;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if ((double)t->frame[mid] <= frame) lo = mid;
        else hi = mid;
    }
    double f0 = (double)t->frame[lo], f1 = (double)t->frame[hi];
    return f1 > f0 ? t->beat[lo] + (t->beat[hi] - t->beat[lo]) * (frame - f0) / (f1 - f0) : t->beat[lo];
}

int together_follow(const bm_engine_config *cfg, const bm_render_opts *o, const double *beat_s,
                    const double *beat_bpm, int nbeats, int settle, int jump_at, bm_follow_result *r, char *err,
                    size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (nbeats > (int)(sizeof r->err_ms / sizeof r->err_ms[0])) nbeats = (int)(sizeof r->err_ms / sizeof r->err_ms[0]);
    trace t = {0};
    t.cap = 1 << 20;
    t.frame = malloc((size_t)t.cap * sizeof *t.frame);
    t.beat = malloc((size_t)t.cap * sizeof *t.beat);
    double *errs = malloc((size_t)(nbeats + 1) * sizeof *errs);
    bm_render_opts ro = *o;
    ro.on_period = on_period;
    ro.ctx = &t;
    bm_render_result res;
    int rc = -1;
    if (!t.frame || !t.beat || !errs) bm_errf(err, errlen, "out of memory");
    else if (render_file(cfg, &ro, &res, err, errlen) == 0 && t.n >= 2) rc = 0;
    if (rc == 0) {
        double sum = 0;
        int n = 0;
        r->nbeats = nbeats;
        for (int k = 0; k < nbeats; k++) {
            double b = beat_at(&t, beat_s[k] * cfg->sample_rate);
            r->err_ms[k] = (b - floor(b + 0.5)) * 60000.0 / beat_bpm[k];
            if (k < settle) continue;
            double a = fabs(r->err_ms[k]);
            errs[n++] = a;
            sum += a;
            if (a > r->max_ms) r->max_ms = a;
        }
        r->mean_abs_ms = n ? sum / n : 0;
        r->p95_ms = session_percentile(errs, n, 95);
        r->recover_beats = -1;
        for (int k = jump_at; jump_at > 0 && k + 3 < nbeats; k++) {
            int ok = 1;
            for (int i = 0; i < 4; i++) ok &= fabs(r->err_ms[k + i]) < 30;
            if (ok) {
                r->recover_beats = k - jump_at;
                break;
            }
        }
    }
    free(t.frame);
    free(t.beat);
    free(errs);
    return rc;
}

/* ---- the evaluation ---- */

#define MAX_NOTES 4096

typedef struct mode_result {
    int ok;
    char why[256];
    double *react, *answer;   /* pooled latencies */
    int nreact, nanswer, phrases;
    double nic_before, nic_after;
    int recover;
    bm_follow_result follow;
} mode_result;

static void render_cfg(bm_engine_config *cfg, const char *mode, double bpm, uint64_t seed)
{
    engine_config_defaults(cfg);
    snprintf(cfg->mode, sizeof cfg->mode, "%s", mode);
    cfg->bpm = bpm;
    cfg->seed = seed;
}

/* Renders the notes in mode at bpm into path; with st, the session's statistics and latencies. */
static int render_notes(const char *mode, double bpm, uint64_t seed, const bm_gen_note *notes, int n,
                        const char *in, const char *path, bm_session_stats *st, double *react, int *nr,
                        double *answer, int *na, char *err, size_t errlen)
{
    if (perfgen_write_notes(notes, n, in, err, errlen) != 0) return -1;
    bm_engine_config cfg;
    render_cfg(&cfg, mode, bpm, seed);
    bm_render_opts o;
    render_opts_defaults(&o);
    o.in_mid = in;
    o.out_mid = path;
    o.follow_file_tempo = 0; /* the file's clock is seconds; the band plays at bpm */
    bm_render_result res;
    if (render_file(&cfg, &o, &res, err, errlen) != 0) return -1;
    bm_session_timing t;
    session_timing_defaults(&t);
    t.sample_rate = cfg.sample_rate;
    t.block = (int)o.block;
    t.lookahead_ms = cfg.lookahead_ms;
    return st ? session_latencies(path, &t, st, react, MAX_NOTES, nr, answer, 256, na, err, errlen) : 0;
}

static int run_mode(const together_opts *o, const char *mode, const char *dir, mode_result *r, char *err,
                    size_t errlen)
{
    static bm_gen_note notes[MAX_NOTES];
    char in[512], path[512];
    snprintf(in, sizeof in, "%s/in.mid", dir);
    snprintf(path, sizeof path, "%s/session.mid", dir);

    /* 1. phrases at several tempos: answers and reactions */
    static const double tempos[] = {80, 100, 120, 140};
    int ntempos = o->quick ? 2 : 4, per = o->quick ? 6 : 16;
    r->react = calloc(MAX_NOTES * 4, sizeof *r->react);
    r->answer = calloc(256, sizeof *r->answer);
    if (!r->react || !r->answer) {
        bm_errf(err, errlen, "out of memory");
        return -1;
    }
    for (int k = 0; k < ntempos; k++) {
        double bpm = tempos[o->quick ? k + 1 : k];
        int n = perfgen_phrases(bpm, per, 4, o->seed + (uint64_t)k, notes, MAX_NOTES);
        bm_session_stats st;
        static double lat_r[MAX_NOTES], lat_a[256];
        int nr = 0, na = 0;
        if (render_notes(mode, bpm, o->seed + (uint64_t)k, notes, n, in, path, &st, lat_r, &nr, lat_a, &na, err,
                         errlen) != 0)
            return -1;
        for (int i = 0; i < nr && r->nreact < MAX_NOTES * 4; i++) r->react[r->nreact++] = lat_r[i];
        for (int i = 0; i < na && r->nanswer < 256; i++) r->answer[r->nanswer++] = lat_a[i];
        r->phrases += st.phrases;
    }

    /* 2. a key change from C to E-flat */
    enum { BEATS = 64, CHANGE = 32 };
    int nseeds = o->quick ? 1 : 3, counts[BEATS] = {0};
    double sum[BEATS] = {0};
    for (int s = 0; s < nseeds; s++) {
        uint16_t chord[BEATS];
        int n = perfgen_key_change(100, BEATS, CHANGE, 3, o->seed + 100 + (uint64_t)s, chord, notes, MAX_NOTES);
        if (render_notes(mode, 100, o->seed + (uint64_t)s, notes, n, in, path, NULL, NULL, NULL, NULL, NULL, err,
                         errlen) != 0)
            return -1;
        double ratio[BEATS], overall;
        if (session_chord_ratio(path, chord, BEATS, ratio, &overall, err, errlen) != 0) return -1;
        for (int b = 0; b < BEATS; b++)
            if (ratio[b] >= 0) sum[b] += ratio[b], counts[b]++;
    }
    double before = 0, after = 0;
    int nb = 0, na = 0;
    for (int b = 8; b < CHANGE; b++)
        if (counts[b]) before += sum[b] / counts[b], nb++;
    before = nb ? before / nb : 0;
    r->recover = -1;
    for (int b = CHANGE; b + 1 < BEATS && r->recover < 0; b++)
        if (counts[b] && counts[b + 1] && sum[b] / counts[b] >= 0.9 * before && sum[b + 1] / counts[b + 1] >= 0.9 * before)
            r->recover = b - CHANGE;
    for (int b = CHANGE + (r->recover > 0 ? r->recover : 0); b < BEATS; b++)
        if (counts[b]) after += sum[b] / counts[b], na++;
    r->nic_before = before;
    r->nic_after = na ? after / na : 0;

    /* 3. a tempo drift from 96 to 132 BPM, the tempo source the performer */
    static double beat_s[1025], beat_bpm[1025];
    int beats = o->quick ? 48 : 96;
    int n = perfgen_tempo_line(96, 132, beats, 0, 8, 17, beat_s, beat_bpm, notes, MAX_NOTES);
    if (perfgen_write_notes(notes, n, in, err, errlen) != 0) return -1;
    bm_engine_config cfg;
    render_cfg(&cfg, mode, 100, o->seed);
    cfg.tempo_source = BM_TEMPO_PERFORMER;
    bm_render_opts ro;
    render_opts_defaults(&ro);
    ro.in_mid = in;
    ro.follow_file_tempo = 0;
    ro.block = 128;
    ro.tail_seconds = 0.5;
    if (together_follow(&cfg, &ro, beat_s, beat_bpm, beats, 8, 0, &r->follow, err, errlen) != 0) return -1;
    r->ok = 1;
    return 0;
}

int together_eval_run(const together_opts *o, char *err, size_t errlen)
{
    FILE *out = o->out;
    char dir[] = "/tmp/bandmate-together-XXXXXX";
    if (!mkdtemp(dir)) {
        bm_errf(err, errlen, "cannot create a scratch folder in /tmp");
        return -1;
    }
    const char *one[2] = {o->mode, NULL};
    const char *const *modes = o->mode ? one : together_modes;
    int nmodes = 0;
    while (modes[nmodes]) nmodes++;
    mode_result *res = calloc((size_t)nmodes, sizeof *res);
    if (!res) {
        bm_errf(err, errlen, "out of memory");
        return -1;
    }
    double t0 = bm_now_s();
    for (int m = 0; m < nmodes; m++) {
        char why[512];
        if (run_mode(o, modes[m], dir, &res[m], why, sizeof why) != 0) {
            res[m].ok = 0;
            snprintf(res[m].why, sizeof res[m].why, "%s", why);
        }
    }
    fprintf(out, "bandmate eval together%s: the offline engine at 48 kHz, 256-frame periods (128 for the tempo drift), lookahead 30 ms\n\n",
            o->quick ? " --quick" : "");
    fprintf(out, "%-18s %-24s %-24s %-26s %-22s\n", "mode", "answer: phrase end ->", "reaction: note ->",
            "note-in-chord, C -> Eb", "tempo 96 -> 132 BPM");
    fprintf(out, "%-18s %-24s %-24s %-26s %-22s\n", "", "lead (median/p90, ans.)", "band (median/p90)",
            "(before/after, recovery)", "(mean/p95/max error)");
    for (int m = 0; m < nmodes; m++) {
        mode_result *r = &res[m];
        if (!r->ok) {
            fprintf(out, "%-18s not measured: %s\n", modes[m], r->why);
            continue;
        }
        bm_latency a = session_latency(r->answer, r->nanswer), re = session_latency(r->react, r->nreact);
        char ca[64], cr[64], ck[64], ct[64];
        if (a.n) snprintf(ca, sizeof ca, "%.0f/%.0f ms, %d/%d", a.median, a.p90, a.n, r->phrases);
        else snprintf(ca, sizeof ca, "none of %d", r->phrases);
        snprintf(cr, sizeof cr, "%.0f/%.0f ms (%d)", re.median, re.p90, re.n);
        if (r->recover >= 0) snprintf(ck, sizeof ck, "%.0f%%/%.0f%%, %d beats", 100 * r->nic_before, 100 * r->nic_after, r->recover);
        else snprintf(ck, sizeof ck, "%.0f%%/-, not recovered", 100 * r->nic_before);
        snprintf(ct, sizeof ct, "%.1f/%.1f/%.1f ms", r->follow.mean_abs_ms, r->follow.p95_ms, r->follow.max_ms);
        fprintf(out, "%-18s %-24s %-24s %-26s %-22s\n", modes[m], ca, cr, ck, ct);
    }
    fprintf(out, "\nanswers: %s phrases of 2..12 notes with 4-beat rests at %s BPM; goal: median under 300 ms\n",
            o->quick ? "6" : "16", o->quick ? "100 and 120" : "80, 100, 120 and 140");
    fprintf(out, "note-in-chord: the band's bass, comping and lead onsets in the performer's chord, beats 8..31 in C,\n"
                 "then from the recovery (two beats in a row at 90%% of before) to beat 63 in E-flat; %s\n",
            o->quick ? "one performance" : "the mean of three performances");
    fprintf(out, "tempo: the band's beat against the performer's true beats from beat 8 on, tempo source performer\n");
    fprintf(out, "(%.1f s)\n", bm_now_s() - t0);
    for (int m = 0; m < nmodes; m++) {
        free(res[m].react);
        free(res[m].answer);
    }
    int all_ok = 1;
    for (int m = 0; m < nmodes; m++) all_ok &= res[m].ok;
    free(res);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "bandmate eval together: could not remove %s.\n", dir);
    if (!all_ok) bm_errf(err, errlen, "a mode could not be measured (see the table)");
    return all_ok ? 0 : -1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bandmate eval together [--quick] [--mode NAME] [--seed N] [--modes]\n"
            "\n"
            "Measures how bandmate plays together with a performer, end to end through the offline engine,\n"
            "in each mode, on performances generated here (the same every run):\n"
            "  answer     from the end of a performer's phrase (the release of its last note) to the\n"
            "             band lead's first note after it: median and 90th percentile, phrases answered\n"
            "  reaction   from a performer's note to the first band note planned after hearing it\n"
            "  key change the band's pitched notes in the performer's chord before and after a change from\n"
            "             C to E-flat, and the beats it took to recover\n"
            "  tempo      the band's beat against the performer's over a drift from 96 to 132 BPM, the\n"
            "             tempo source the performer (ms: mean, 95th percentile, max)\n"
            "\n"
            "  --quick       fewer, shorter performances (what 'make bench' runs)\n"
            "  --mode NAME   one mode only\n"
            "  --seed N      performances and sampling (default 1)\n"
            "  --modes       list the modes measured, one a line, and stop\n"
            "  -h, --help    this help\n");
}

int together_eval_main(int argc, char **argv)
{
    static const struct option opts[] = {{"quick", no_argument, 0, 'q'}, {"mode", required_argument, 0, 'm'},
                                         {"seed", required_argument, 0, 's'}, {"modes", no_argument, 0, 'M'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    together_opts o = {0, NULL, 1, stdout};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'q': o.quick = 1; break;
        case 'm': o.mode = optarg; break;
        case 's': if (cli_u64("eval together", "--seed", optarg, &o.seed)) return 2; break;
        case 'M':
            for (int i = 0; together_modes[i]; i++) printf("%s\n", together_modes[i]);
            return 0;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "bandmate eval together: '%s' is not an option here; 'bandmate eval together --help' lists them.\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bandmate eval together: unexpected '%s'.\n", argv[optind]);
        return 2;
    }
    if (o.mode) {
        int known = 0;
        char list[256] = "";
        for (int i = 0; bm_mode_names[i]; i++) {
            known |= !strcmp(bm_mode_names[i], o.mode);
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", bm_mode_names[i]);
        }
        if (!known) {
            fprintf(stderr, "bandmate eval together: '%s' is not a mode bandmate knows (%s).\n", o.mode, list);
            return 2;
        }
    }
    char err[1024];
    if (together_eval_run(&o, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate eval together: %s.\n", err);
        return 1;
    }
    return 0;
}
