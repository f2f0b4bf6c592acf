/* test_listen_util.c: material and scoring for the listening tests. */
#include "test_listen_util.h"
#include "test.h"
#include "engine/listen/wav_in.h"
#include "engine/smf.h"

#include <stdlib.h>
#include <sndfile.h>
#include <unistd.h>

static double urand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (double)(*s >> 11) / 9007199254740992.0;
}

float *lt_synth_line(const lt_note *notes, int n, double sr, int64_t frames, double vibrato_cents,
                     double noise, uint64_t seed)
{
    float *x = calloc((size_t)frames, sizeof(float));
    CHECK(x);
    uint64_t rng = seed ? seed : 1;
    for (int k = 0; k < n; k++) {
        const lt_note *nt = &notes[k];
        double f0 = 440.0 * pow(2.0, (nt->note - 69) / 12.0);
        double amp = 0.05 + 0.45 * nt->velocity / 127.0, phase = 0;
        int64_t rel = (int64_t)(0.03 * sr), att = (int64_t)(0.008 * sr);
        for (int64_t i = nt->on; i < nt->off + rel && i < frames; i++) {
            double t = (double)(i - nt->on) / sr;
            double env = i - nt->on < att ? (double)(i - nt->on) / att : 1.0;
            env *= 0.8 + 0.2 * exp(-t * 3);
            if (i >= nt->off) env *= 1.0 - (double)(i - nt->off) / rel;
            double f = f0 * pow(2.0, vibrato_cents / 1200.0 * sin(2 * M_PI * 5.5 * t) * (t > 0.15 ? 1 : t / 0.15));
            phase += 2 * M_PI * f / sr;
            double s = sin(phase) + 0.5 * sin(2 * phase) + 0.3 * sin(3 * phase) + 0.15 * sin(4 * phase);
            x[i] += (float)(amp * env * s / 1.6);
        }
    }
    if (noise > 0)
        for (int64_t i = 0; i < frames; i++) x[i] += (float)(noise * (urand(&rng) * 2 - 1));
    return x;
}

void lt_write_line_midi(const char *path, const lt_note *nb, int n, int program, double bpm)
{
    smf *s = smf_new(480);
    smf_add_track(s, "tempo");
    smf_add_tempo(s, 0, 0, (uint32_t)llround(60e6 / bpm));
    smf_add_track(s, "human");
    uint8_t pc[2] = {0xc0, (uint8_t)program};
    smf_add_midi(s, 1, 0, pc, 2);
    for (int i = 0; i < n; i++) {
        uint8_t on[3] = {0x90, (uint8_t)nb[i].note, (uint8_t)nb[i].velocity}, off[3] = {0x80, (uint8_t)nb[i].note, 0};
        smf_add_midi(s, 1, (uint64_t)nb[i].on, on, 3);
        smf_add_midi(s, 1, (uint64_t)nb[i].off, off, 3);
    }
    char err[256];
    if (smf_write_file(s, path, err, sizeof err) != 0) test_fail(__FILE__, __LINE__, "%s", err);
    smf_free(s);
}

void lt_render_fluidsynth(const char *mid, const char *wav, int sr)
{
    const char *sf2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2";
    if (access(sf2, R_OK) != 0) test_skip("the FluidR3 soundfont is not installed (make deps)");
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, "fluidsynth -ni -q -R 0 -C 0 -g 0.7 -r %d -O s16 -F '%s.st.wav' %s '%s' && "
             "sox '%s.st.wav' -c 1 '%s' remix 1 && rm -f '%s.st.wav'", sr, wav, sf2, mid, wav, wav, wav);
    int rc = test_run(cmd, out, sizeof out, 60);
    if (rc == 127) test_skip("fluidsynth or sox is not installed (make deps)");
    CHECKF(rc == 0, "rendering %s failed: %s", mid, out);
}

float *lt_read_wav(const char *path, int64_t *frames, double *sr)
{
    bm_wav_in w;
    char err[512];
    CHECKF(wav_in_load(path, 0, &w, err, sizeof err) == 0, "%s", err);
    *frames = w.frames;
    *sr = w.sample_rate;
    return w.samples;
}

int lt_midi_notes(const char *path, double sr, lt_note *out, int max)
{
    smf *s;
    char err[256];
    CHECKF(smf_read_file(path, &s, err, sizeof err) == 0, "%s", err);
    smf_tempo_map map;
    CHECK(smf_tempo_map_build(s, &map) == 0);
    int n = 0;
    int64_t open[128];
    int openi[128];
    for (int i = 0; i < 128; i++) open[i] = -1;
    for (int t = 0; t < s->ntracks; t++)
        for (size_t i = 0; i < s->tracks[t].n; i++) {
            const smf_event *e = &s->tracks[t].events[i];
            if (e->kind != SMF_MIDI || e->nbytes != 3) continue;
            int st = e->bytes[0] & 0xf0, note = e->bytes[1] & 127;
            int64_t f = (int64_t)llround(smf_tempo_map_seconds(&map, e->tick) * sr);
            if (st == 0x90 && e->bytes[2] > 0) {
                if (n < max) {
                    out[n] = (lt_note){f, f, note, e->bytes[2]};
                    open[note] = f;
                    openi[note] = n++;
                }
            } else if ((st == 0x80 || st == 0x90) && open[note] >= 0) {
                out[openi[note]].off = f;
                open[note] = -1;
            }
        }
    /* in time order */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && out[j - 1].on > out[j].on; j--) {
            lt_note x = out[j];
            out[j] = out[j - 1];
            out[j - 1] = x;
        }
    smf_tempo_map_free(&map);
    smf_free(s);
    return n;
}

int lt_run_audio_notes(const float *x, int64_t frames, double sr, uint32_t block, const bm_audio_notes_config *cfg_in,
                       lt_found *found, int max)
{
    bm_audio_notes_config cfg = *cfg_in;
    cfg.sample_rate = sr;
    char err[256];
    bm_audio_notes *a = audio_notes_create(&cfg, err, sizeof err);
    CHECKF(a, "%s", err);
    bm_heard_note out[64];
    int n = 0;
    for (int64_t s = 0; s < frames; s += block) {
        uint32_t len = frames - s < block ? (uint32_t)(frames - s) : block;
        int k = audio_notes_process(a, x + s, len, s, out, 64);
        for (int i = 0; i < k; i++) {
            if (!out[i].on) continue;
            if (out[i].relabel && n > 0) n--; /* a correction replaces the note it ends */
            if (n < max) found[n++] = (lt_found){out[i].frame, out[i].detected, out[i].note, out[i].velocity};
        }
    }
    audio_notes_destroy(a);
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double lt_percentile(const double *v, int n, double p)
{
    if (n <= 0) return 0;
    double *c = malloc((size_t)n * sizeof *c);
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    double pos = p / 100.0 * (n - 1);
    int i = (int)pos;
    double r = i + 1 < n ? c[i] + (pos - i) * (c[i + 1] - c[i]) : c[n - 1];
    free(c);
    return r;
}

lt_score lt_score_notes(const lt_note *truth, int nt, const lt_found *found, int nf, double sr, double tol_ms)
{
    lt_score s = {0};
    s.truth = nt;
    s.found = nf;
    char *used = calloc((size_t)nf + 1, 1);
    double *lat = malloc(((size_t)nt + 1) * sizeof *lat), *err = malloc(((size_t)nt + 1) * sizeof *err),
           *bias = malloc(((size_t)nt + 1) * sizeof *bias);
    double tol = tol_ms * 1e-3 * sr;
    for (int i = 0; i < nt; i++) {
        int best = -1;
        double bd = tol;
        for (int j = 0; j < nf; j++) {
            if (used[j] || found[j].note != truth[i].note) continue;
            double d = fabs((double)(found[j].frame - truth[i].on));
            if (d <= bd) {
                bd = d;
                best = j;
            }
        }
        if (best < 0) {
            if (getenv("BM_LISTEN_VERBOSE")) {
                printf("    missed %d at %.3f s; found near it:", truth[i].note, truth[i].on / sr);
                for (int j = 0; j < nf; j++)
                    if (llabs(found[j].frame - truth[i].on) < (int64_t)(0.2 * sr))
                        printf(" %d at %+.1f ms (known %+.1f ms)", found[j].note, (found[j].frame - truth[i].on) / sr * 1e3,
                               (found[j].detected - truth[i].on) / sr * 1e3);
                printf("\n");
            }
            continue;
        }
        used[best] = 1;
        lat[s.matched] = (double)(found[best].detected - truth[i].on) / sr * 1e3;
        bias[s.matched] = (double)(found[best].frame - truth[i].on) / sr * 1e3;
        err[s.matched] = fabs(bias[s.matched]);
        s.matched++;
    }
    s.precision = nf ? (double)s.matched / nf : 0;
    s.recall = nt ? (double)s.matched / nt : 0;
    s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0;
    s.latency_med_ms = lt_percentile(lat, s.matched, 50);
    s.latency_p95_ms = lt_percentile(lat, s.matched, 95);
    s.stamp_med_ms = lt_percentile(err, s.matched, 50);
    s.stamp_p95_ms = lt_percentile(err, s.matched, 95);
    s.stamp_bias_ms = lt_percentile(bias, s.matched, 50);
    free(used);
    free(lat);
    free(err);
    free(bias);
    return s;
}

int lt_report(void) { return getenv("BM_LISTEN_REPORT") != NULL; }

float *lt_read_wav_channel(const char *path, int channel, int64_t *frames, double *sr)
{
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    CHECKF(f, "cannot read %s", path);
    float *all = malloc((size_t)info.frames * (size_t)info.channels * sizeof(float));
    float *x = malloc((size_t)info.frames * sizeof(float));
    sf_count_t got = sf_readf_float(f, all, info.frames);
    sf_close(f);
    for (sf_count_t i = 0; i < got; i++) x[i] = all[i * info.channels + channel];
    free(all);
    *frames = got;
    *sr = info.samplerate;
    return x;
}
