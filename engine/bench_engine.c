/* bench_engine.c: `bandmate bench engine`: the process callback's cost on a real JACK server
 * (dummy backend) during a busy session, and the offline render speed beside fluidsynth. */
#include "engine/bench.h"
#include "engine/bench_jack.h"
#include "engine/util.h"
#include "engine/engine.h"
#include "engine/jack_driver.h"
#include "engine/jackd_spawn.h"
#include "engine/offline.h"
#include "engine/perfgen.h"
#include "engine/recorder.h"
#include "engine/smf.h"

#include <getopt.h>
#include <jack/jack.h>
#include <jack/midiport.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bandmate bench engine [--seconds N] [--period FRAMES] [--render-minutes M] [--quick]\n"
            "\n"
            "Starts a private JACK server (dummy backend, 48 kHz), runs bandmate in it with every part\n"
            "playing, the performer monitored, MIDI clock out and the recorder on, while a test client\n"
            "plays a busy performance (about 12 notes a second with chords) into it; then reports the\n"
            "process callback's cost (mean, p99, p99.9, max, as a share of the period) and the xruns.\n"
            "Then renders a performance offline and compares its speed with fluidsynth rendering the\n"
            "same notes with the FluidR3 General MIDI soundfont.\n"
            "\n"
            "  --seconds N          length of the live session (default 60)\n"
            "  --period FRAMES      JACK period (default 64)\n"
            "  --render-minutes M   length of the offline performance (default 3)\n"
            "  --quick              10 s live, 1 minute offline\n");
}

int bench_engine_main(int argc, char **argv)
{
    static const struct option opts[] = {{"seconds", required_argument, 0, 's'},
                                         {"period", required_argument, 0, 'p'},
                                         {"render-minutes", required_argument, 0, 'r'},
                                         {"quick", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    double seconds = 60, minutes = 3;
    int period = 64;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': seconds = atof(optarg); break;
        case 'p': period = atoi(optarg); break;
        case 'r': minutes = atof(optarg); break;
        case 'q': seconds = 10; minutes = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (seconds < 1 || seconds > 3600 || period < 16 || period > 8192 || minutes <= 0 || minutes > 60) {
        fprintf(stderr, "bandmate bench engine: --seconds 1..3600, --period 16..8192, --render-minutes up to 60.\n");
        return 2;
    }
    char dir[] = "/tmp/bandmate-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bandmate bench engine: cannot create a scratch folder in /tmp.\n");
        return 1;
    }
    char path[4][512], err[512];
    snprintf(path[0], sizeof path[0], "%s/live.mid", dir);
    snprintf(path[1], sizeof path[1], "%s/perf.mid", dir);
    snprintf(path[2], sizeof path[2], "%s/out.mid", dir);
    snprintf(path[3], sizeof path[3], "%s/out.wav", dir);
    int rc = 0;

    /* ---- live ---- */
    bm_perfgen g = {120, 30, 4, 1, 1};
    int notes;
    if (perfgen_write(&g, path[0], &notes, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate bench engine: %s.\n", err);
        return 1;
    }
    bm_jackd jd;
    char log[600];
    snprintf(log, sizeof log, "%s/jackd.log", dir);
    if (jackd_spawn(&jd, 48000, period, log, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate bench engine: %s.\n", err);
        return 1;
    }
    bm_jack_opts jo = {0};
    jo.server_name = jd.name;
    jo.client_name = "bandmate";
    jo.audio_inputs = 1;
    bm_jack *jack = jack_driver_open(&jo, err, sizeof err);
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    cfg.monitor_human = 1;
    cfg.midi_clock_out = 1;
    cfg.record = 1;
    bm_engine *e = jack ? engine_create(&cfg, err, sizeof err) : NULL;
    if (!e) {
        fprintf(stderr, "bandmate bench engine: %s.\n", err);
        jack_driver_close(jack);
        jackd_stop(&jd);
        return 1;
    }
    ring *rev, *raud;
    engine_record_rings(e, &rev, &raud);
    bm_recorder *rec = recorder_create(path[2], path[3], rev, raud, 48000, 120, 4, 4, err, sizeof err);
    bench_player pl = {0};
    if (!rec || bench_player_open(&pl, jd.name, "bench-player", path[0], 48000, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate bench engine: could not set up the session (%s).\n", err);
        rc = 1;
        goto out;
    }
    mlockall(MCL_CURRENT | MCL_FUTURE);
    engine_prefault(e);
    recorder_start_thread(rec);
    engine_start_musician_thread(e);
    if (jack_driver_start(jack, e, err, sizeof err) != 0 || bench_player_start(&pl, "bandmate:midi_in") != 0) {
        fprintf(stderr, "bandmate bench engine: could not start the session (%s).\n", err);
        rc = 1;
        goto out;
    }
    if (jack_driver_rt_priority(jack) > 1) engine_musician_priority(e, jack_driver_rt_priority(jack) - 1);
    printf("live: %.0f s at 48 kHz, %d frames (%.0f us) on the dummy backend, every part playing ...\n",
           seconds, period, period / 48.0 * 1000);
    fflush(stdout);
    double t0 = bm_now_s();
    uint64_t xruns_start = jack_driver_xruns(jack);
    while (bm_now_s() - t0 < seconds) {
        usleep(100000);
        engine_collect_garbage(e);
        bm_event junk;
        while (ring_pop(engine_feedback_ring(e), &junk) == 0) {}
        while (ring_pop(engine_plan_ring(e), &junk) == 0) {}
    }
    jack_deactivate(pl.client);
    const bm_engine_stats *s = engine_stats(e);
    uint64_t cycles = atomic_load(&s->cycles);
    double period_us = period / 48000.0 * 1e6;
    uint64_t xruns = jack_driver_xruns(jack) - xruns_start;
    printf("\nprocess callback, %llu periods, %llu performer notes, %llu band notes, voices now %d\n",
           (unsigned long long)cycles, (unsigned long long)atomic_load(&s->human_notes),
           (unsigned long long)atomic_load(&s->band_notes), atomic_load(&s->active_voices));
    bench_print_callback(s, period_us);
    printf("xruns reported by JACK during the session: %llu; late band events %llu, late steps %llu\n",
           (unsigned long long)xruns, (unsigned long long)atomic_load(&s->late_events),
           (unsigned long long)atomic_load(&engine_musician_stats(e)->late_steps));
    /* who was late: jackd says whether a client had not finished or its own timer woke late */
    jack_client_close(pl.client);
    pl.client = NULL;
    jack_driver_close(jack);
    jack = NULL;
    jackd_stop(&jd);
    int ours = 0, others = 0;
    bench_jackd_log_xruns(log, "bandmate", &ours, &others);
    printf("jackd's log: %d periods in which bandmate had not finished, %d other xrun reports\n", ours, others);
    int base = bench_reference_xruns(period, seconds, err, sizeof err);
    if (base >= 0)
        printf("reference, same machine and settings: a client writing silence saw %d xruns in %.0f s\n", base, seconds);
    printf("(percentiles have 1 us resolution: the upper edge of the bin)\n");
out:
    bench_player_close(&pl);
    jack_driver_close(jack);
    if (rec) {
        recorder_finish(rec, err, sizeof err);
        recorder_destroy(rec);
    }
    engine_destroy(e);
    jackd_stop(&jd);
    if (rc) return rc;

    /* ---- offline ---- */
    g.seconds = minutes * 60;
    g.seed = 2;
    if (perfgen_write(&g, path[1], &notes, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate bench engine: %s.\n", err);
        return 1;
    }
    bm_render_opts o;
    render_opts_defaults(&o);
    o.in_mid = path[1];
    o.out_mid = path[2];
    o.out_wav = path[3];
    bm_render_result res;
    engine_config_defaults(&cfg);
    cfg.monitor_human = 1;
    if (render_file(&cfg, &o, &res, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate bench engine: %s.\n", err);
        return 1;
    }
    printf("\noffline render of a %.1f-minute performance (%d performer notes, %llu band notes), 256-frame blocks\n",
           res.seconds / 60, notes, (unsigned long long)res.band_notes);
    printf("  bandmate render (MIDI + WAV):  %6.2f s   %6.1fx real time\n", res.wall_seconds,
           res.seconds / res.wall_seconds);
    /* the reference: fluidsynth rendering bandmate's own session MIDI with the GM soundfont */
    const char *sf2 = "/usr/share/sounds/sf2/FluidR3_GM.sf2";
    if (access("/usr/bin/fluidsynth", X_OK) == 0 && access(sf2, R_OK) == 0) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, "fluidsynth -ni -q -F %s/fluid.wav -r 48000 %s %s >/dev/null 2>&1", dir, sf2, path[2]);
        double f0 = bm_now_s();
        int frc = system(cmd);
        double fw = bm_now_s() - f0;
        if (frc == 0)
            printf("  fluidsynth, same notes:        %6.2f s   %6.1fx real time   (bandmate is %.2fx fluidsynth's speed)\n",
                   fw, res.seconds / fw, fw / res.wall_seconds);
        else
            printf("  fluidsynth failed (exit %d): no reference column\n", frc);
    } else {
        printf("  fluidsynth or the FluidR3 soundfont is absent: no reference column\n");
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "bandmate bench engine: could not remove %s.\n", dir);
    return 0;
}
