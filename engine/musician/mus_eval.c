/* mus_eval.c: the musician's evaluation (docs/musician.md explains each measure). */
#include "engine/musician/mus_eval.h"
#include "engine/behaviour.h"
#include "engine/engine.h"
#include "engine/musician/mus_band.h"
#include "engine/musician/mus_batch.h"
#include "engine/musician/mus_chords.h"
#include "engine/musician/mus_corpus.h"
#include "engine/musician/mus_model.h"
#include "engine/musician/mus_ppm.h"
#include "engine/musician/mus_sample.h"
#include "engine/offline.h"
#include "engine/session_stats.h"
#include "engine/smf.h"
#include "engine/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void mus_eval_defaults(mus_eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->gen_songs = 120;
    o->gen_steps = 1024;
    o->ppm_order = MUS_PPM_MAX_ORDER;
    o->seed = 1;
    o->follow_chords = o->follow_melody = -1;
}

static const char *const head_names[MUS_PPM_NHEADS] = {"bass", "drums", "comping", "lead"};

/* ---- likelihoods ---- */

/* The model's negative log-likelihood of one song, per head, the model hearing only the past (the
 * band alone: no performer, no chart). */
static void lstm_song_nll(mus_band *b, const mus_song *s, double *nll, long *steps)
{
    mus_band_ctl c = mus_band_ctl_defaults();
    c.style = s->style;
    mus_band_reset(b);
    for (int t = 0; t < s->nsteps; t++) {
        const mus_frame *f = &s->frame[t];
        const float *l = mus_band_observe(b, &c, t, s->beats_per_bar, NULL, NULL, f);
        if (mus_ppm_has_part(MUS_PPM_BASS, s)) {
            nll[MUS_PPM_BASS] -= mus_log_softmax_at(l + mus_head_offset(MUS_HEAD_BASS), MUS_MONO_VOCAB, f->bass);
            steps[MUS_PPM_BASS]++;
        }
        if (mus_ppm_has_part(MUS_PPM_DRUMS, s)) {
            nll[MUS_PPM_DRUMS] -= mus_log_sigmoid_bits(l + mus_head_offset(MUS_HEAD_DRUMS), MUS_DRUM_UNITS, f->drums);
            steps[MUS_PPM_DRUMS]++;
        }
        if (mus_ppm_has_part(MUS_PPM_COMP, s)) {
            double x = -mus_log_softmax_at(l + mus_head_offset(MUS_HEAD_COMP), MUS_COMP_RHYTHM_VOCAB, f->comp);
            if (f->comp >= MUS_COMP_SOFT)
                x -= mus_log_softmax_at(l + mus_head_offset(MUS_HEAD_CHORD), MUS_NCHORDS, f->chord);
            nll[MUS_PPM_COMP] += x;
            steps[MUS_PPM_COMP]++;
        }
        if (mus_ppm_has_part(MUS_PPM_LEAD, s)) {
            nll[MUS_PPM_LEAD] -= mus_log_softmax_at(l + mus_head_offset(MUS_HEAD_LEAD), MUS_MONO_VOCAB, f->lead);
            steps[MUS_PPM_LEAD]++;
        }
    }
}

static int section_nll(const mus_corpus *c, const int *test, int ntest, mus_band *b, const mus_eval_opts *o,
                       double *lstm_out, double *ppm_out, char *err, size_t errlen)
{
    FILE *out = o->out;
    double t0 = bm_now_s();
    double nll[MUS_PPM_NHEADS] = {0};
    long steps[MUS_PPM_NHEADS] = {0};
    for (int i = 0; i < ntest; i++) lstm_song_nll(b, &c->songs[test[i]], nll, steps);
    for (int h = 0; h < MUS_PPM_NHEADS; h++) lstm_out[h] = steps[h] ? nll[h] / steps[h] : 0;
    fprintf(out, "  model: %d test songs scored in %.1f s\n", ntest, bm_now_s() - t0);
    if (o->skip_ppm) return 0;
    for (int h = 0; h < MUS_PPM_NHEADS; h++) {
        double t1 = bm_now_s();
        mus_ppm *p = mus_ppm_create(h, o->ppm_order);
        if (!p) goto oom;
        for (int i = 0; i < c->n; i++)
            if (c->songs[i].split == MUS_SPLIT_TRAIN && mus_ppm_train(p, &c->songs[i]) != 0) {
                mus_ppm_free(p);
                goto oom;
            }
        double vn[MUS_PPM_MAX_ORDER + 1] = {0}, tn[MUS_PPM_MAX_ORDER + 1] = {0};
        long vs = 0, ts = 0;
        for (int i = 0; i < c->n; i++)
            if (c->songs[i].split == MUS_SPLIT_VALID) mus_ppm_score(p, &c->songs[i], vn, &vs);
        for (int i = 0; i < ntest; i++) mus_ppm_score(p, &c->songs[test[i]], tn, &ts);
        int best = 1;
        for (int k = 1; k <= o->ppm_order; k++)
            if (vs && vn[k] < vn[best]) best = k;
        ppm_out[h] = ts ? tn[best] / ts : 0;
        fprintf(out, "  PPM %s: %ld contexts; validation NLL by order:", head_names[h], mus_ppm_contexts(p));
        for (int k = 1; k <= o->ppm_order; k++) fprintf(out, " %d:%.3f", k, vs ? vn[k] / vs : 0);
        fprintf(out, "; best order %d (%.0f s)\n", best, bm_now_s() - t1);
        fflush(out);
        mus_ppm_free(p);
    }
    return 0;
oom:
    bm_errf(err, errlen, "out of memory building the PPM baseline");
    return -1;
}

/* ---- generation ---- */

#define KC_BEFORE 16
#define KC_AFTER 32

typedef struct gen_stats {
    long on[2], in[2];              /* generated note-ons of bass and comping, and on a chord tone */
    long on_new[2], in_new[2];      /* of them, in the first beat of a chord of the chart */
    long drum_on, drum_ok, bass_on, bass_ok; /* onsets, and on the positions the style uses */
    double distinct;                /* distinct bars among the first 32, summed over songs */
    long songs32;
    long kc_on[KC_BEFORE + KC_AFTER], kc_in[KC_BEFORE + KC_AFTER]; /* by beat from a key change */
} gen_stats;

/* Which positions of the bar each style uses: onset histograms of the training songs. */
typedef struct style_profile {
    float drum[MUS_NSTYLES][MUS_NMETERS][MUS_MAX_BAR_STEPS];
    float bass[MUS_NSTYLES][MUS_NMETERS][MUS_MAX_BAR_STEPS];
    uint8_t drum_used[MUS_NSTYLES][MUS_NMETERS][MUS_MAX_BAR_STEPS];
    uint8_t bass_used[MUS_NSTYLES][MUS_NMETERS][MUS_MAX_BAR_STEPS];
} style_profile;

static void build_profiles(const mus_corpus *c, style_profile *sp)
{
    memset(sp, 0, sizeof *sp);
    for (int i = 0; i < c->n; i++) {
        const mus_song *s = &c->songs[i];
        if (s->split != MUS_SPLIT_TRAIN) continue;
        int bar = s->beats_per_bar * MUS_STEPS_PER_BEAT, m = mus_meter_class(s->beats_per_bar);
        for (int t = 0; t < s->nsteps; t++) {
            int pos = t % bar < MUS_MAX_BAR_STEPS ? t % bar : MUS_MAX_BAR_STEPS - 1;
            if (s->frame[t].drums) sp->drum[s->style][m][pos]++;
            if (s->frame[t].bass >= 2) sp->bass[s->style][m][pos]++;
        }
    }
    for (int st = 0; st < MUS_NSTYLES; st++)
        for (int m = 0; m < MUS_NMETERS; m++) {
            float td = 0, tb = 0;
            for (int p = 0; p < MUS_MAX_BAR_STEPS; p++) {
                td += sp->drum[st][m][p];
                tb += sp->bass[st][m][p];
            }
            for (int p = 0; p < MUS_MAX_BAR_STEPS; p++) {
                /* a position is used when it holds at least 2% of the style's onsets */
                sp->drum_used[st][m][p] = td > 0 && sp->drum[st][m][p] >= 0.02f * td;
                sp->bass_used[st][m][p] = tb > 0 && sp->bass[st][m][p] >= 0.02f * tb;
            }
        }
}

static uint64_t bar_hash(uint64_t h, const mus_frame *f)
{
    h ^= f->drums + 0x9E3779B97F4A7C15ull * (f->bass + 1) + (h << 7) + (h >> 3);
    return h * 0xBF58476D1CE4E5B9ull;
}

static double distinct_bars(const uint64_t *sig, int n)
{
    int d = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = sig[j] == sig[i];
        d += !seen;
    }
    return d;
}

/* The song's own onsets on the same steps (the reference for rhythm and diversity). */
static void corpus_rhythm(const mus_song *s, int n, const style_profile *sp, gen_stats *g)
{
    int bar = s->beats_per_bar * MUS_STEPS_PER_BEAT, m = mus_meter_class(s->beats_per_bar);
    uint64_t sig[32] = {0};
    for (int t = 0; t < n && t < s->nsteps; t++) {
        int pos = t % bar < MUS_MAX_BAR_STEPS ? t % bar : MUS_MAX_BAR_STEPS - 1;
        const mus_frame *f = &s->frame[t];
        if (f->drums) {
            g->drum_on++;
            g->drum_ok += sp->drum_used[s->style][m][pos];
        }
        if (f->bass >= 2) {
            g->bass_on++;
            g->bass_ok += sp->bass_used[s->style][m][pos];
        }
        if (t / bar < 32) sig[t / bar] = bar_hash(sig[t / bar], f);
    }
    if (n >= 32 * bar && s->nsteps >= 32 * bar) {
        g->distinct += distinct_bars(sig, 32);
        g->songs32++;
    }
}

/* The band plays one song with the performer covering role (their notes from the song), the chart
 * given or not; from step change_at on, the performer (and the chart) are transposed by change_by. */
static float gen_temperature = 1.0f, gen_top_p = 0.95f, gen_follow_chords = -1, gen_follow_melody = -1;

static void generate(mus_band *b, const mus_song *s, int role, int chart, int n, int change_at, int change_by,
                     const style_profile *sp, uint64_t *rng, gen_stats *g)
{
    mus_band_ctl c = mus_band_ctl_defaults();
    c.temperature = gen_temperature;
    c.top_p = gen_top_p;
    if (gen_follow_chords >= 0) c.follow_chords = gen_follow_chords;
    if (gen_follow_melody >= 0) c.follow_melody = gen_follow_melody;
    c.role = role;
    c.style = s->style;
    c.parts = (1u << MUS_NPARTS) - 1;
    if (role) c.parts &= ~(1u << (role - 1));
    mus_band_reset(b);
    int bar = s->beats_per_bar * MUS_STEPS_PER_BEAT, m = mus_meter_class(s->beats_per_bar);
    uint8_t channel[BM_NUM_PARTS] = {0, 1, 9, 2, 3};
    bm_event ev[64];
    uint64_t sig[32] = {0};
    if (n > s->nsteps) n = s->nsteps;
    int chord_since = 0;
    for (int t = 0; t < n; t++) {
        if (t == 0 || !s->chart_pcs || s->chart_pcs[t] != s->chart_pcs[t - 1] || s->chart_root[t] != s->chart_root[t - 1])
            chord_since = t;
        mus_hsum heard;
        mus_frame tokens = mus_frame_rest();
        memset(&heard, 0, sizeof heard);
        if (t > 0 && role) {
            int k = t - 1 >= change_at ? change_by : 0;
            heard = mus_hsum_transpose(s->hsum[(size_t)(t - 1) * MUS_NPARTS + role - 1], k);
            tokens = mus_frame_transpose(s->frame[t - 1], k);
        }
        int kt = t >= change_at ? change_by : 0;
        c.chart_root = -1;
        if (chart && s->chart_root && s->chart_root[t] >= 0) {
            c.chart_root = ((s->chart_root[t] + kt) % 12 + 12) % 12;
            c.chart_pcs = mus_pcs_transpose(s->chart_pcs[t], kt);
        }
        mus_frame f = mus_band_decide(b, &c, t, s->beats_per_bar, &heard, &tokens, rng);
        int ne = mus_band_perform(b, &c, &f, (double)t / MUS_STEPS_PER_BEAT, channel, ev, 64);
        uint16_t truth = s->chart_root && s->chart_root[t] >= 0 ? mus_pcs_transpose(s->chart_pcs[t], kt) : 0;
        int beat_rel = change_at >= n ? 1 << 20
                       : t >= change_at ? (t - change_at) / MUS_STEPS_PER_BEAT
                                        : -((change_at - t + MUS_STEPS_PER_BEAT - 1) / MUS_STEPS_PER_BEAT);
        for (int i = 0; i < ne; i++) {
            if (ev[i].type != BM_EV_NOTE_ON || !truth) continue;
            int which = ev[i].part == BM_PART_BASS ? 0 : ev[i].part == BM_PART_COMPING ? 1 : -1;
            if (which < 0) continue;
            int in = truth >> (ev[i].note % 12) & 1;
            g->on[which]++;
            g->in[which] += in;
            if (t - chord_since < MUS_STEPS_PER_BEAT) {
                g->on_new[which]++;
                g->in_new[which] += in;
            }
            if (beat_rel >= -KC_BEFORE && beat_rel < KC_AFTER) {
                g->kc_on[beat_rel + KC_BEFORE]++;
                g->kc_in[beat_rel + KC_BEFORE] += in;
            }
        }
        int pos = t % bar < MUS_MAX_BAR_STEPS ? t % bar : MUS_MAX_BAR_STEPS - 1;
        if (f.drums) {
            g->drum_on++;
            g->drum_ok += sp->drum_used[s->style][m][pos];
        }
        if (f.bass >= 2) {
            g->bass_on++;
            g->bass_ok += sp->bass_used[s->style][m][pos];
        }
        if (t / bar < 32) sig[t / bar] = bar_hash(sig[t / bar], &f);
    }
    if (n >= 32 * bar) {
        g->distinct += distinct_bars(sig, 32);
        g->songs32++;
    }
}

static double ratio(long a, long b) { return b ? (double)a / (double)b : 0; }

/* ---- the chord tracker alone ---- */

typedef struct track_stats {
    long n[2], best[2], root[2], tone_in[2], tone_n[2]; /* [0] first beat of a chart chord, [1] after */
    double ll;
    long heard_n, heard_best, old_best, late_n, late_best;
} track_stats;

/* The tracker hears one part of a song as the performer's, as the band does, and predicts each
 * step's chord before it is played: is it the chart's chord (family and root), its root, and are
 * the predicted chord's tones in the chart's? Beside: the chord of the last step heard, and the
 * harmony estimate's chord (what the band followed before the tracker). */
static void track_song(const mus_chords_model *cm, const mus_song *s, int role, int n, track_stats *g)
{
    mus_chords tr;
    mus_harmony h;
    mus_chords_reset(&tr);
    mus_harmony_reset(&h);
    int bar = s->beats_per_bar * MUS_STEPS_PER_BEAT, since = 0;
    static const mus_hsum silence;
    if (n > s->nsteps) n = s->nsteps;
    for (int t = 0; t < n; t++) {
        const mus_hsum *heard = t ? &s->hsum[(size_t)(t - 1) * MUS_NPARTS + role - 1] : &silence;
        mus_harmony_update(&h, heard);
        mus_chords_hear(&tr, cm, heard, role, s->beats_per_bar, ((t - 1) % bar + bar) % bar, h.key_tonic, h.key_mode);
        if (t && (s->chart_pcs[t] != s->chart_pcs[t - 1] || s->chart_root[t] != s->chart_root[t - 1])) since = t;
        int truth = mus_chords_state_of(s->chart_root[t], s->chart_pcs[t]);
        if (truth < 0) continue;
        int k = t - since >= MUS_STEPS_PER_BEAT;
        int best = mus_chords_best(&tr, NULL);
        g->n[k]++;
        g->best[k] += best == truth;
        g->root[k] += best / MUS_NFAMILIES == truth / MUS_NFAMILIES;
        for (int i = 0; i < 12; i++)
            if (cm->tone[best % MUS_NFAMILIES][i] >= 0.5f) {
                g->tone_n[k]++;
                g->tone_in[k] += s->chart_pcs[t] >> ((best / MUS_NFAMILIES + i) % 12) & 1;
            }
        g->ll += log(tr.pred[truth] > 1e-9f ? tr.pred[truth] : 1e-9f);
        if (t) {
            int was = mus_chords_state_of(s->chart_root[t - 1], s->chart_pcs[t - 1]);
            if (was >= 0) {
                int hb = 0;
                for (int c = 1; c < MUS_CT_STATES; c++)
                    if (tr.post[c] > tr.post[hb]) hb = c;
                g->heard_n++;
                g->heard_best += hb == was;
            }
        }
        if (t >= MUS_CT_LAG) {
            int was = mus_chords_state_of(s->chart_root[t - MUS_CT_LAG], s->chart_pcs[t - MUS_CT_LAG]);
            if (was >= 0) {
                g->late_n++;
                g->late_best += tr.hist[(t - MUS_CT_LAG + 1) % MUS_CT_HISTORY] == was;
            }
        }
        int old = h.chord != MUS_CHORD_NONE ? mus_chords_state_of(mus_chord_root(h.chord), mus_chord_pcs(h.chord)) : -1;
        g->old_best += old == truth;
    }
}

static void section_tracker(const mus_corpus *c, const int *songs, int nsongs, const mus_chords_model *cm, int steps,
                            FILE *out)
{
    static const int roles[3] = {MUS_ROLE_COMP, MUS_ROLE_BASS, MUS_ROLE_LEAD};
    static const char *const names[3] = {"chords", "bass line", "melody"};
    fprintf(out, "  performer     songs  next chord: first beat  after  (root, tones in chord)  log-lik   heard chord  "
                 "harmony estimate\n");
    for (int r = 0; r < 3; r++) {
        track_stats g;
        memset(&g, 0, sizeof g);
        int used = 0;
        for (int i = 0; i < nsongs; i++) {
            const mus_song *s = &c->songs[songs[i]];
            if (!s->chart_root || !(s->present >> (roles[r] - 1) & 1)) continue;
            track_song(cm, s, roles[r], steps, &g);
            used++;
        }
        long n = g.n[0] + g.n[1];
        fprintf(out, "  %-12s %6d  %21.1f%% %5.1f%%  (%.1f%%, %.1f%%)  %15.3f   %10.1f%%  %8.1f%%\n", names[r], used,
                100 * ratio(g.best[0], g.n[0]), 100 * ratio(g.best[1], g.n[1]), 100 * ratio(g.root[0] + g.root[1], n),
                100 * ratio(g.tone_in[0] + g.tone_in[1], g.tone_n[0] + g.tone_n[1]), n ? g.ll / n : 0,
                100 * ratio(g.heard_best, g.heard_n), 100 * ratio(g.old_best, n));
        fprintf(out, "  %-12s %6s  first beat: root %.1f%%, tones %.1f%%; with two beats of hindsight %.1f%%\n", "", "",
                100 * ratio(g.root[0], g.n[0]), 100 * ratio(g.tone_in[0], g.tone_n[0]), 100 * ratio(g.late_best, g.late_n));
    }
}

/* ---- render latency ---- */

static int section_render(const mus_eval_opts *o, char *err, size_t errlen)
{
    FILE *out = o->out;
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    snprintf(cfg.mode, sizeof cfg.mode, "accompany");
    cfg.bpm = 120;
    char dir[] = "/tmp/bandmate-eval-XXXXXX", path[64];
    if (!mkdtemp(dir)) {
        snprintf(err, errlen, "cannot create a scratch folder in /tmp");
        return -1;
    }
    snprintf(path, sizeof path, "%s/session.mid", dir);
    bm_render_opts ro;
    render_opts_defaults(&ro);
    ro.in_mid = o->performance;
    ro.out_mid = path;
    ro.follow_file_tempo = 0;
    bm_render_result res;
    bm_session_timing t;
    session_timing_defaults(&t);
    t.sample_rate = cfg.sample_rate;
    t.block = (int)ro.block;
    t.lookahead_ms = cfg.lookahead_ms;
    t.steps_per_beat = MUS_STEPS_PER_BEAT;
    bm_session_stats st;
    int rc = render_file(&cfg, &ro, &res, err, errlen) == 0 && session_stats_read(path, &t, &st, err, errlen) == 0 ? 0 : -1;
    remove(path);
    rmdir(dir);
    if (rc == 0 && st.reaction.n > 0) {
        double step_ms = 60e3 / cfg.bpm / MUS_STEPS_PER_BEAT;
        fprintf(out, "  render of %s at %.0f BPM (lookahead %.0f ms, period %d frames at %.0f Hz): from a performer's note to the first band note planned after hearing it: median %.0f ms, 90%% %.0f ms, max %.0f ms over %d notes (a step is %.0f ms; bound: lookahead + a step + a period = %.0f ms)\n",
                o->performance, cfg.bpm, cfg.lookahead_ms, t.block, cfg.sample_rate, st.reaction.median, st.reaction.p90,
                st.reaction.max, st.reaction.n, step_ms, cfg.lookahead_ms + step_ms + t.block * 1e3 / cfg.sample_rate);
    }
    return rc;
}

/* ---- the whole evaluation ---- */

/* The tracker's tables fitted on the training songs of a corpus (as training does). */
static mus_chords_model *fit_tracker(const mus_corpus *c)
{
    mus_chords_model *cm = malloc(sizeof *cm);
    mus_chords_counts *counts = calloc(1, sizeof *counts);
    if (!cm || !counts) {
        free(cm);
        free(counts);
        return NULL;
    }
    for (int i = 0; i < c->n; i++)
        if (c->songs[i].split == MUS_SPLIT_TRAIN) mus_chords_count_song(counts, &c->songs[i]);
    mus_chords_model_build(cm, counts, NULL);
    free(counts);
    return cm;
}

static int tracker_only(const mus_eval_opts *o, char *err, size_t errlen)
{
    FILE *out = o->out;
    double t0 = bm_now_s();
    mus_corpus c;
    mus_corpus_opts co = {.quiet = 1};
    if (mus_corpus_load(o->corpus, &co, &c, out, err, errlen) != 0) return -1;
    int *songs = malloc((size_t)c.n * sizeof *songs), n = 0;
    mus_chords_model *cm = fit_tracker(&c);
    if (!songs || !cm) {
        free(songs);
        free(cm);
        mus_corpus_free(&c);
        bm_errf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < c.n; i++)
        if (c.songs[i].split == (o->on_valid ? MUS_SPLIT_VALID : MUS_SPLIT_TEST) && c.songs[i].chart_root) songs[n++] = i;
    if (n > o->gen_songs) {
        for (int i = 0; i < o->gen_songs; i++) songs[i] = songs[(long)i * n / o->gen_songs];
        n = o->gen_songs;
    }
    fprintf(out, "The chord tracker alone (fitted on the training songs; %d %s songs, %d steps each)\n", n,
            o->on_valid ? "validation" : "test", o->gen_steps);
    section_tracker(&c, songs, n, cm, o->gen_steps, out);
    fprintf(out, "took %.1f s\n", bm_now_s() - t0);
    free(songs);
    free(cm);
    mus_corpus_free(&c);
    return 0;
}

int mus_eval_run(const mus_eval_opts *o, char *err, size_t errlen)
{
    if (o->tracker_only) return tracker_only(o, err, errlen);
    FILE *out = o->out;
    double t_start = bm_now_s();
    char path[1024];
    if (o->model) snprintf(path, sizeof path, "%s", o->model);
    else mus_model_default_path(path, sizeof path);
    mus_model *model = mus_model_load(path, err, errlen);
    if (!model) return -1;
    mus_band *band = mus_band_create(model, err, errlen);
    if (!band) {
        mus_model_free(model);
        return -1;
    }
    mus_corpus c;
    mus_corpus_opts co = {.quiet = 1};
    if (mus_corpus_load(o->corpus, &co, &c, out, err, errlen) != 0) {
        mus_band_free(band);
        mus_model_free(model);
        return -1;
    }
    int rc = -1;
    int *test = malloc((size_t)c.n * sizeof *test), ntest = 0;
    style_profile *sp = malloc(sizeof *sp);
    if (!test || !sp) {
        bm_errf(err, errlen, "out of memory");
        goto out;
    }
    for (int i = 0; i < c.n; i++)
        if (c.songs[i].split == (o->on_valid ? MUS_SPLIT_VALID : MUS_SPLIT_TEST)) test[ntest++] = i;
    if (!ntest) {
        bm_errf(err, errlen, "the corpus %s has no test songs (a chart's split line or a test/ folder marks them)", o->corpus);
        goto out;
    }
    if (o->max_songs && ntest > o->max_songs) { /* spread over the split */
        for (int i = 0; i < o->max_songs; i++) test[i] = test[(long)i * ntest / o->max_songs];
        ntest = o->max_songs;
    }
    fprintf(out, "model %s: %d x %d LSTM; %d test songs\n\n", path, model->cfg.layers, model->cfg.hidden, ntest);
    /* 1. likelihoods */
    fprintf(out, "1. Per-step negative log-likelihood (nats) on the test songs, the model online\n");
    double lstm[MUS_PPM_NHEADS], ppm[MUS_PPM_NHEADS];
    if (section_nll(&c, test, ntest, band, o, lstm, ppm, err, errlen) != 0) goto out;
    fprintf(out, "  %-8s %8s %8s %9s\n", "head", "LSTM", "PPM", "LSTM/PPM");
    for (int h = 0; h < MUS_PPM_NHEADS; h++)
        if (o->skip_ppm) fprintf(out, "  %-8s %8.3f\n", head_names[h], lstm[h]);
        else
            fprintf(out, "  %-8s %8.3f %8.3f %8.1f%%  (goal: at least 15%% lower: %s)\n", head_names[h], lstm[h], ppm[h],
                    100.0 * lstm[h] / ppm[h], lstm[h] <= 0.85 * ppm[h] ? "met" : "missed");
    fflush(out);
    /* 2.-4. generation */
    build_profiles(&c, sp);
    int gen[4096], ngen = 0;
    for (int i = 0; i < c.n && ngen < 4096; i++) { /* from the whole split, whatever --max-songs says */
        const mus_song *s = &c.songs[i];
        if (s->split == (o->on_valid ? MUS_SPLIT_VALID : MUS_SPLIT_TEST) && s->chart_root &&
            (s->present >> MUS_COMP & 1) && (s->present >> MUS_LEAD & 1))
            gen[ngen++] = i;
    }
    if (ngen > o->gen_songs) {
        for (int i = 0; i < o->gen_songs; i++) gen[i] = gen[(long)i * ngen / o->gen_songs];
        ngen = o->gen_songs;
    }
    uint64_t rng = o->seed;
    gen_temperature = o->temperature > 0 ? o->temperature : 1.0f;
    gen_top_p = o->top_p > 0 ? o->top_p : 0.95f;
    gen_follow_chords = o->follow_chords;
    gen_follow_melody = o->follow_melody;
    gen_stats corpus_g, chords_g, melody_g, chart_g;
    memset(&corpus_g, 0, sizeof corpus_g);
    memset(&chords_g, 0, sizeof chords_g);
    memset(&melody_g, 0, sizeof melody_g);
    memset(&chart_g, 0, sizeof chart_g);
    long raw_on[2] = {0}, raw_in[2] = {0};
    double t2 = bm_now_s();
    for (int i = 0; i < ngen; i++) {
        const mus_song *s = &c.songs[gen[i]];
        raw_on[0] += s->onsets[MUS_BASS];
        raw_in[0] += s->in_chord[MUS_BASS];
        raw_on[1] += s->onsets[MUS_COMP];
        raw_in[1] += s->in_chord[MUS_COMP];
        corpus_rhythm(s, o->gen_steps, sp, &corpus_g);
        generate(band, s, MUS_ROLE_COMP, 0, o->gen_steps, 1 << 30, 0, sp, &rng, &chords_g);
        generate(band, s, MUS_ROLE_LEAD, 0, o->gen_steps, 1 << 30, 0, sp, &rng, &melody_g);
        generate(band, s, MUS_ROLE_LEAD, 1, o->gen_steps, 1 << 30, 0, sp, &rng, &chart_g);
    }
    double cb = ratio(raw_in[0], raw_on[0]), cc = ratio(raw_in[1], raw_on[1]);
    fprintf(out, "\n2. Note-in-chord ratio against the chart (%d test songs with chords, comping and lead, %d steps each; temperature %.2f, top-p %.2f; %.0f s)\n",
            ngen, o->gen_steps, gen_temperature, gen_top_p, bm_now_s() - t2);
    fprintf(out, "  %-44s %8s %8s\n", "setting", "bass", "comping");
    fprintf(out, "  %-44s %7.1f%% %7.1f%%\n", "the corpus itself (these songs)", 100 * cb, 100 * cc);
    double a = ratio(chords_g.in[0], chords_g.on[0]);
    fprintf(out, "  %-44s %7.1f%% %8s  bass %.0f%% of the corpus (goal 95%%: %s)\n", "performer plays the chords (comping)",
            100 * a, "-", 100 * a / cb, a >= 0.95 * cb ? "met" : "missed");
    double mb = ratio(melody_g.in[0], melody_g.on[0]), mc = ratio(melody_g.in[1], melody_g.on[1]);
    fprintf(out, "  %-44s %7.1f%% %7.1f%%  %.0f%% and %.0f%% of the corpus (goal 80%%: %s)\n",
            "performer plays the melody only", 100 * mb, 100 * mc, 100 * mb / cb, 100 * mc / cc,
            mb >= 0.8 * cb && mc >= 0.8 * cc ? "met" : "missed");
    double hb = ratio(chart_g.in[0], chart_g.on[0]), hc = ratio(chart_g.in[1], chart_g.on[1]);
    fprintf(out, "  %-44s %7.1f%% %7.1f%%  %.0f%% and %.0f%% of the corpus\n", "melody, with the chord chart given",
            100 * hb, 100 * hc, 100 * hb / cb, 100 * hc / cc);
    fprintf(out, "  in the first beat of each chord (the band cannot hear a change before it is played):\n");
    fprintf(out, "    chords %.1f%% of %ld bass notes; melody %.1f%% bass, %.1f%% comping; chart %.1f%% bass, %.1f%% comping\n",
            100 * ratio(chords_g.in_new[0], chords_g.on_new[0]), chords_g.on_new[0],
            100 * ratio(melody_g.in_new[0], melody_g.on_new[0]), 100 * ratio(melody_g.in_new[1], melody_g.on_new[1]),
            100 * ratio(chart_g.in_new[0], chart_g.on_new[0]), 100 * ratio(chart_g.in_new[1], chart_g.on_new[1]));
    fprintf(out, "  after the first beat: chords %.1f%% bass; melody %.1f%% bass, %.1f%% comping\n",
            100 * ratio(chords_g.in[0] - chords_g.in_new[0], chords_g.on[0] - chords_g.on_new[0]),
            100 * ratio(melody_g.in[0] - melody_g.in_new[0], melody_g.on[0] - melody_g.on_new[0]),
            100 * ratio(melody_g.in[1] - melody_g.in_new[1], melody_g.on[1] - melody_g.on_new[1]));
    fprintf(out, "\n3. Rhythm and diversity (performer plays the melody)\n");
    fprintf(out, "  onsets on the metric positions the style uses (>= 2%% of its onsets in training):\n");
    fprintf(out, "    drums: band %.1f%%, corpus %.1f%%;  bass: band %.1f%%, corpus %.1f%%\n",
            100 * ratio(melody_g.drum_ok, melody_g.drum_on), 100 * ratio(corpus_g.drum_ok, corpus_g.drum_on),
            100 * ratio(melody_g.bass_ok, melody_g.bass_on), 100 * ratio(corpus_g.bass_ok, corpus_g.bass_on));
    fprintf(out, "  onsets per bar: drum steps band %.1f, corpus %.1f; bass band %.1f, corpus %.1f\n",
            melody_g.drum_on * 16.0 / (ngen * (double)o->gen_steps), corpus_g.drum_on * 16.0 / (ngen * (double)o->gen_steps),
            melody_g.bass_on * 16.0 / (ngen * (double)o->gen_steps), corpus_g.bass_on * 16.0 / (ngen * (double)o->gen_steps));
    fprintf(out, "  distinct bars (drums + bass) among 32: band %.1f, corpus %.1f (%ld songs)\n",
            melody_g.songs32 ? melody_g.distinct / melody_g.songs32 : 0,
            corpus_g.songs32 ? corpus_g.distinct / corpus_g.songs32 : 0, melody_g.songs32);
    fflush(out);
    /* 5. key change */
    fprintf(out, "\n4. An abrupt key change (the performer and the chart a tritone up from bar 17): bass and comping on chord tones by beat\n");
    for (int role = MUS_ROLE_COMP; role <= MUS_ROLE_LEAD; role += MUS_ROLE_LEAD - MUS_ROLE_COMP) {
        gen_stats kc;
        memset(&kc, 0, sizeof kc);
        int used = 0;
        for (int i = 0; i < ngen; i++) {
            const mus_song *s = &c.songs[gen[i]];
            int bar = s->beats_per_bar * MUS_STEPS_PER_BEAT, at = 16 * bar;
            if (s->nsteps < at + KC_AFTER * MUS_STEPS_PER_BEAT) continue;
            generate(band, s, role, 0, at + KC_AFTER * MUS_STEPS_PER_BEAT, at, 6, sp, &rng, &kc);
            used++;
        }
        long bon = 0, bin = 0;
        for (int k = 0; k < KC_BEFORE; k++) {
            bon += kc.kc_on[k];
            bin += kc.kc_in[k];
        }
        double base = ratio(bin, bon);
        int rec = -1;
        for (int k = KC_BEFORE; k + 1 < KC_BEFORE + KC_AFTER && rec < 0; k++) {
            double r0 = ratio(kc.kc_in[k], kc.kc_on[k]), r1 = ratio(kc.kc_in[k + 1], kc.kc_on[k + 1]);
            if (r0 >= 0.9 * base && r1 >= 0.9 * base) rec = k - KC_BEFORE;
        }
        fprintf(out, "  performer plays the %s (%d songs): before %.0f%%; beats after the change:", role == MUS_ROLE_COMP ? "chords" : "melody", used, 100 * base);
        for (int k = KC_BEFORE; k < KC_BEFORE + 8; k++) fprintf(out, " %.0f%%", 100 * ratio(kc.kc_in[k], kc.kc_on[k]));
        if (rec >= 0) fprintf(out, "; recovered (90%% of before) after %d beats\n", rec);
        else fprintf(out, "; not recovered within %d beats\n", KC_AFTER);
    }
    fflush(out);
    /* 6. latency */
    {
        const mus_song *s = &c.songs[gen[0]];
        int n = 20000;
        double *dt = malloc((size_t)n * sizeof *dt);
        if (!dt) {
            bm_errf(err, errlen, "out of memory");
            goto out;
        }
        mus_band_ctl ctl = mus_band_ctl_defaults();
        ctl.role = MUS_ROLE_LEAD;
        uint8_t channel[BM_NUM_PARTS] = {0, 1, 9, 2, 3};
        bm_event ev[64];
        mus_band_reset(band);
        for (int i = 0; i < n; i++) {
            int t = i % s->nsteps;
            const mus_hsum *h = &s->hsum[(size_t)t * MUS_NPARTS + MUS_LEAD];
            int64_t t0 = bm_now_ns();
            mus_frame f = mus_band_decide(band, &ctl, i, s->beats_per_bar, h, &s->frame[t], &rng);
            mus_band_perform(band, &ctl, &f, i / 4.0, channel, ev, 64);
            dt[i] = (double)(bm_now_ns() - t0) / 1e3;
        }
        session_percentile(dt, n, 50); /* sorts them */
        fprintf(out, "\n5. Latency\n  one musician step (listen, harmony, LSTM step, sampling, voicing), %d steps on this machine: median %.0f us, p99 %.0f us, max %.0f us (goal p99 < 1 ms: %s)\n",
                n, dt[n / 2], dt[n * 99 / 100], dt[n - 1], dt[n * 99 / 100] < 1000 ? "met" : "missed");
        free(dt);
    }
    if (o->performance) {
        behaviour_set_model_path(path);
        if (section_render(o, err, errlen) != 0) goto out;
    }
    fprintf(out, "\nevaluation took %.0f s\n", bm_now_s() - t_start);
    rc = 0;
out:
    free(test);
    free(sp);
    mus_corpus_free(&c);
    mus_band_free(band);
    mus_model_free(model);
    return rc;
}
