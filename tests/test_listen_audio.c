/* test_listen_audio.c: audio to notes: synthetic lines with known onsets (latency and how well
 * it is compensated), rendered instruments and a sung line (precision and recall). */
#include "test.h"
#include "test_listen_util.h"

#include <stdlib.h>

static bm_audio_notes_config default_cfg(double sr)
{
    bm_audio_notes_config c = {sr, -50.0f, 0.8f, 0.3f, 0.35f, 40, 100, NULL};
    return c;
}

/* Ode to Joy as in examples/melody.mid, in ticks of 480 per beat. */
static int ode_to_joy(lt_note *out, int transpose)
{
    static const int seq[][2] = {
        {66, 2}, {66, 2}, {67, 2}, {69, 2}, {69, 2}, {67, 2}, {66, 2}, {64, 2}, {62, 2}, {62, 2}, {64, 2}, {66, 2},
        {66, 3}, {64, 1}, {64, 4},
        {66, 2}, {66, 2}, {67, 2}, {69, 2}, {69, 2}, {67, 2}, {66, 2}, {64, 2}, {62, 2}, {62, 2}, {64, 2}, {66, 2},
        {64, 3}, {62, 1}, {62, 4},
        {64, 2}, {64, 2}, {66, 2}, {62, 2}, {64, 2}, {66, 1}, {67, 1}, {66, 2}, {62, 2}, {64, 2}, {66, 1}, {67, 1},
        {66, 2}, {64, 2}, {62, 2}, {64, 2}, {57, 4}, {66, 4},
        {66, 2}, {66, 2}, {67, 2}, {69, 2}, {69, 2}, {67, 2}, {66, 2}, {64, 2}, {62, 2}, {62, 2}, {64, 2}, {66, 2},
        {64, 3}, {62, 1}, {62, 4}};
    int n = (int)(sizeof seq / sizeof seq[0]);
    int64_t t = 0;
    for (int i = 0; i < n; i++) {
        int len = seq[i][1] * 240;
        int vel = t % 1920 == 0 ? 96 : t % 960 == 0 ? 80 : 72;
        out[i] = (lt_note){t, t + len * 92 / 100, seq[i][0] + transpose, vel};
        t += len;
    }
    return n;
}

TEST_TIMEOUT(listen_rendered_instruments_precision_recall, 120)
{
    static const struct { const char *name; int program, transpose; double min_f1; } inst[] = {
        {"flute", 73, 12, 0.9}, {"alto sax", 65, 0, 0.9}, {"voice oohs", 53, 0, 0.6}, {"nylon guitar", 24, -12, 0.85},
    };
    lt_note line[128], truth[128];
    int nl = ode_to_joy(line, 0);
    for (size_t k = 0; k < sizeof inst / sizeof inst[0]; k++) {
        for (int i = 0; i < nl; i++) {
            line[i] = (lt_note){0, 0, 0, 0};
        }
        nl = ode_to_joy(line, inst[k].transpose);
        const char *mid = test_path("line.mid"), *wav = test_path("line.wav");
        lt_write_line_midi(mid, line, nl, inst[k].program, 100);
        lt_render_fluidsynth(mid, wav, 48000);
        int64_t frames;
        double sr;
        float *x = lt_read_wav(wav, &frames, &sr);
        int nt = lt_midi_notes(mid, sr, truth, 128);
        static lt_found found[1024];
        bm_audio_notes_config cfg = default_cfg(sr);
        int nf = lt_run_audio_notes(x, frames, sr, 256, &cfg, found, 1024);
        lt_score s = lt_score_notes(truth, nt, found, nf, sr, 50);
        if (lt_report())
            printf("  %-12s notes %d found %d: precision %.3f recall %.3f F1 %.3f; latency median %.1f ms p95 %.1f ms; "
                   "stamp error median %.1f ms p95 %.1f ms (bias %+.1f ms)\n",
                   inst[k].name, nt, nf, s.precision, s.recall, s.f1, s.latency_med_ms, s.latency_p95_ms,
                   s.stamp_med_ms, s.stamp_p95_ms, s.stamp_bias_ms);
        free(x);
        CHECKF(s.f1 >= inst[k].min_f1, "%s: F1 %.3f (precision %.3f, recall %.3f)", inst[k].name, s.f1, s.precision,
               s.recall);
    }
}
