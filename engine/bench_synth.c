/* bench_synth.c: `bandmate bench synth`: what the neural voices cost. The callback time of one
 * instrument holding 16 notes at 48 kHz in 64-frame periods (mean, p99.9, max as a share of the
 * period, and the decoder's share), beside the classic instrument; then the offline render speed of
 * a performance played by neural voices, beside the classic instruments and fluidsynth rendering the
 * same notes with the GM soundfont. */
#include "engine/bench.h"
#include "engine/engine.h"
#include "engine/offline.h"
#include "engine/perfgen.h"
#include "engine/util.h"
#include "engine/voice/synth_neural.h"
#include "engine/voice/voice_bank.h"
#include "nn/nn_ops.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bandmate bench synth [--voice SPEC] [--notes N] [--period FRAMES] [--seconds S]\n"
            "                            [--render-minutes M] [--quick]\n"
            "\n"
            "Times one instrument's render callback while it holds N notes (default 16; two are\n"
            "released and played again every half second, so note-ons and releases are in the mix) at\n"
            "48 kHz in periods of 64 frames: the neural voice SPEC (default strings) and the classic\n"
            "keys beside it. Then renders a performance offline with neural voices on every band part\n"
            "and on the performer's, with the classic instruments, and with fluidsynth and the GM\n"
            "soundfont from the same notes.\n");
}

static long long ns_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Times periods of an instrument holding notes; prints one row. */
static void time_callbacks(const char *label, bm_instrument *in, int notes, int period, double seconds, int neural)
{
    const int sr = 48000;
    long n = (long)(seconds * sr / period);
    long long *t = malloc(sizeof *t * (size_t)n);
    float *buf = calloc((size_t)period, sizeof *buf);
    if (!t || !buf) {
        free(t);
        free(buf);
        return;
    }
    synth_denormals_off();
    static const int chord[] = {36, 43, 48, 52, 55, 59, 60, 62, 64, 67, 69, 71, 72, 74, 76, 79,
                                81, 83, 84, 86, 88, 91, 93, 95, 96, 98, 100, 103, 105, 107, 108, 110};
    int nn = notes < 32 ? notes : 32;
    for (int k = 0; k < nn; k++) in->ops->note_on(in, chord[k], 100);
    if (neural) synth_neural_set_timing(in, 1);
    long every = sr / 2 / period, turn = 0;
    for (long i = 0; i < n; i++) {
        long long t0 = ns_now();
        memset(buf, 0, sizeof(float) * (size_t)period);
        if (i && i % every == 0 && nn >= 2) { /* two notes start again: note-ons and steals in the mix */
            int a = chord[turn % nn], b = chord[(turn + 5) % nn];
            in->ops->note_off(in, a);
            in->ops->note_off(in, b);
            in->ops->note_on(in, a, 90);
            in->ops->note_on(in, b, 90);
            turn++;
        }
        in->ops->render(in, buf, (uint32_t)period);
        t[i] = ns_now() - t0;
    }
    double sum = 0;
    for (long i = 0; i < n; i++) sum += (double)t[i];
    qsort(t, (size_t)n, sizeof *t, cmp_ll);
    double per_ns = 1e9 * period / sr;
    double mean = sum / n, p999 = (double)t[(long)(0.999 * (n - 1))], mx = (double)t[n - 1];
    printf("%-30s %5d %8.1f %6.2f%% %8.1f %6.2f%% %8.1f %6.2f%%", label, in->ops->active_voices(in), mean / 1e3,
           100 * mean / per_ns, p999 / 1e3, 100 * p999 / per_ns, mx / 1e3, 100 * mx / per_ns);
    if (neural) {
        long long net, all, steps;
        synth_neural_timing(in, &net, &all, &steps);
        printf("   %5.1f%% %7.3f%%", all > 0 ? 100.0 * (double)net / (double)all : 0,
               100.0 * (double)net / (seconds * 1e9));
    }
    printf("\n");
    free(t);
    free(buf);
}

int bench_synth_main(int argc, char **argv)
{
    static const struct option opts[] = {{"voice", required_argument, 0, 'v'},   {"notes", required_argument, 0, 'n'},
                                         {"period", required_argument, 0, 'p'},  {"seconds", required_argument, 0, 's'},
                                         {"render-minutes", required_argument, 0, 'r'},
                                         {"quick", no_argument, 0, 'q'},         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *spec = "strings";
    int notes = 16, period = 64;
    double seconds = 20, minutes = 1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'v': spec = optarg; break;
        case 'n': notes = atoi(optarg); break;
        case 'p': period = atoi(optarg); break;
        case 's': seconds = atof(optarg); break;
        case 'r': minutes = atof(optarg); break;
        case 'q': seconds = 5; minutes = 0.5; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (notes < 1 || notes > 32 || period < 16 || period > 4096 || seconds < 1 || seconds > 600 || minutes <= 0 ||
        minutes > 30) {
        fprintf(stderr, "bandmate bench synth: --notes 1..32, --period 16..4096, --seconds 1..600, --render-minutes up to 30.\n");
        return 2;
    }
    char err[512];
    bm_instrument *probe = voice_instrument_create(spec, 32, 48000, err, sizeof err);
    if (!probe) {
        fprintf(stderr, "bandmate bench synth: %s.\n", err);
        return 1;
    }
    char cpu[128] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10)) {
                char *p = strchr(line, ':');
                if (p) snprintf(cpu, sizeof cpu, "%s", p + 2);
                cpu[strcspn(cpu, "\n")] = 0;
                break;
            }
        fclose(f);
    }
    printf("bandmate bench synth: %s, %ld cores; oscillators: %s\n", cpu, sysconf(_SC_NPROCESSORS_ONLN),
           synth_neural_kernel(probe));
    printf("one instrument, 48 kHz, %d-frame periods (%.0f us), %.0f s each; times per callback\n\n", period,
           1e6 * period / 48000, seconds);
    printf("%-30s %5s %8s %7s %8s %7s %8s %7s   %6s %8s\n", "instrument", "notes", "mean us", "of per", "p99.9 us",
           "of per", "max us", "of per", "net", "net/core");
    instrument_destroy(probe);
    char label[96];
    bm_instrument *in = voice_instrument_create(spec, notes, 48000, err, sizeof err);
    snprintf(label, sizeof label, "neural %.22s", spec);
    if (in) time_callbacks(label, in, notes, period, seconds, 1);
    instrument_destroy(in);
    in = voice_instrument_create(spec, 1, 48000, err, sizeof err);
    snprintf(label, sizeof label, "neural %.22s, 1 note", spec);
    if (in) time_callbacks(label, in, 1, period, seconds, 1);
    instrument_destroy(in);
    in = synth_classic_create(BM_CLASSIC_KEYS, notes, 48000);
    time_callbacks("classic keys", in, notes, period, seconds, 0);
    instrument_destroy(in);
    in = synth_classic_create(BM_CLASSIC_PAD, notes, 48000);
    time_callbacks("classic pad", in, notes, period, seconds, 0);
    instrument_destroy(in);
    printf("\n'of per': share of the period, i.e. of one core while it lasts; 'net': the decoder's share of the\n"
           "neural callback; 'net/core': the decoder's time as a share of one core.\n");

    /* ---- offline render ---- */
    char dir[] = "/tmp/bandmate-bench-synth-XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bandmate bench synth: cannot create a scratch folder in /tmp.\n");
        return 1;
    }
    char perf[600], out_mid[600], out_wav[600];
    snprintf(perf, sizeof perf, "%s/perf.mid", dir);
    snprintf(out_mid, sizeof out_mid, "%s/out.mid", dir);
    snprintf(out_wav, sizeof out_wav, "%s/out.wav", dir);
    bm_perfgen g = {120, minutes * 60, 4, 1, 2};
    int pnotes;
    if (perfgen_write(&g, perf, &pnotes, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate bench synth: %s.\n", err);
        return 1;
    }
    printf("\noffline render of a %.1f-minute performance (%d performer notes and the band's echo), 256-frame blocks\n",
           minutes, pnotes);
    double bandmate_s[2] = {0, 0}, music = 0;
    for (int pass = 0; pass < 2; pass++) {
        bm_engine_config cfg;
        engine_config_defaults(&cfg);
        cfg.monitor_human = 1;
        if (pass == 0) {
            snprintf(cfg.voice[BM_PART_HUMAN], sizeof cfg.voice[0], "%s", spec);
            snprintf(cfg.voice[BM_PART_BASS], sizeof cfg.voice[0], "bass");
            snprintf(cfg.voice[BM_PART_COMPING], sizeof cfg.voice[0], "epiano");
            snprintf(cfg.voice[BM_PART_LEAD], sizeof cfg.voice[0], "flute");
        }
        bm_render_opts o;
        render_opts_defaults(&o);
        o.in_mid = perf;
        o.out_mid = out_mid;
        o.out_wav = out_wav;
        bm_render_result res;
        if (render_file(&cfg, &o, &res, err, sizeof err) != 0) {
            fprintf(stderr, "bandmate bench synth: %s.\n", err);
            return 1;
        }
        bandmate_s[pass] = res.wall_seconds;
        music = res.seconds;
        printf("  bandmate, %-26s %6.2f s   %6.1fx real time   (%llu band notes)\n",
               pass ? "classic instruments:" : "neural voices:", res.wall_seconds, res.seconds / res.wall_seconds,
               (unsigned long long)res.band_notes);
    }
    const char *sf2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2";
    if (access("/usr/bin/fluidsynth", X_OK) == 0 && access(sf2, R_OK) == 0) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "fluidsynth -ni -q -F %s/fluid.wav -r 48000 %s %s >/dev/null 2>&1", dir, sf2, out_mid);
        double f0 = bm_now_s();
        int frc = system(cmd);
        double fw = bm_now_s() - f0;
        if (frc == 0)
            printf("  fluidsynth, the same notes:          %6.2f s   %6.1fx real time   (neural bandmate is %.2fx fluidsynth's speed)\n",
                   fw, music / fw, fw / bandmate_s[0]);
        else
            printf("  fluidsynth failed (exit %d): no reference row\n", frc);
    } else {
        printf("  fluidsynth or the FluidR3 soundfont is absent: no reference row\n");
    }
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "bandmate bench synth: could not remove %s.\n", dir);
    return 0;
}
