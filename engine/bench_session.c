/* bench_session.c: `bandmate bench session`: a long live session on a real JACK server (dummy
 * backend) with everything a show has running at once: the musician, every band part on a neural
 * voice, a performer playing MIDI in through another JACK client, a Lua script, and an OSC client
 * steering and listening over loopback. Reports xruns and the callback cost beside the reference. */
#include "engine/bench.h"
#include "engine/bench_jack.h"
#include "engine/control/control.h"
#include "engine/engine.h"
#include "engine/jack_driver.h"
#include "engine/jackd_spawn.h"
#include "engine/patch.h"
#include "engine/perfgen.h"
#include "engine/together.h"
#include "engine/util.h"

#include <getopt.h>
#include <lo/lo.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The OSC client: registers for every kind of feedback, then moves faders, asks for the status
 * and syncs, ten messages a second, while it counts what comes back. */
typedef struct osc_client {
    int port;
    atomic_int stop;
    long sent, received, done, failed;
} osc_client;

static int on_reply(const char *path, const char *types, lo_arg **argv, int argc, lo_message m, void *ud)
{
    osc_client *c = ud;
    c->received++;
    if (!strcmp(path, "/bm/done")) c->done++;
    if (!strcmp(path, "/bm/fail")) c->failed++;
    return 0;
}

static void *osc_thread(void *arg)
{
    osc_client *c = arg;
    lo_server srv = lo_server_new(NULL, NULL);
    if (!srv) return NULL;
    lo_server_add_method(srv, NULL, NULL, on_reply, c);
    char port[16];
    snprintf(port, sizeof port, "%d", c->port);
    lo_address to = lo_address_new("127.0.0.1", port);
    lo_message m = lo_message_new();
    lo_message_add_int32(m, 1);
    lo_message_add_string(m, "all");
    lo_send_message_from(to, srv, "/bm/notify", m);
    lo_message_free(m);
    c->sent++;
    uint64_t rng = 12345;
    for (long tick = 0; !atomic_load(&c->stop); tick++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        float v = (float)((rng >> 40) % 1000) / 1000.0f;
        m = lo_message_new();
        const char *path = "/bm/status";
        switch (tick % 5) {
        case 0: path = "/bm/param/density/norm"; lo_message_add_float(m, 0.3f + 0.4f * v); break;
        case 1: path = "/bm/param/temperature/norm"; lo_message_add_float(m, 0.3f + 0.3f * v); break;
        case 2: path = "/bm/status"; break;
        case 3: path = "/bm/sync"; lo_message_add_int32(m, (int)tick); break;
        default: path = "/bm/param/master_gain/norm"; lo_message_add_float(m, 0.7f + 0.2f * v); break;
        }
        lo_send_message_from(to, srv, path, m);
        lo_message_free(m);
        c->sent++;
        for (int i = 0; i < 10; i++) lo_server_recv_noblock(srv, 10); /* about 100 ms */
    }
    lo_address_free(to);
    lo_server_free(srv);
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bandmate bench session [--minutes M] [--seconds S] [--period FRAMES]\n"
            "\n"
            "A long live session on a private JACK server (dummy backend, 48 kHz) with everything a show\n"
            "runs at once: the musician in mode %s, every pitched part and the performer on a neural\n"
            "voice (bass, guitar, trumpet, epiano; drums on the synthesised kit), a test client playing\n"
            "a performance (a melody and chords, about 5 notes a second) into bandmate's MIDI input, the\n"
            "script scripts/call_response.lua answering the performer's phrases, and an OSC client on\n"
            "loopback registered for all feedback and sending ten messages a second (faders, status,\n"
            "sync). Reports the xruns and the process callback's cost (mean, median, p99, p99.9, max, as a\n"
            "share of the period), then the xruns a client writing silence sees on its own server for\n"
            "the same time (at most two minutes): what the machine causes by itself.\n"
            "Run it from bandmate's folder (it reads scripts/ and voices/).\n"
            "\n"
            "  --minutes M      length of the session (default 10)\n"
            "  --seconds S      length in seconds instead (for a quick check)\n"
            "  --period FRAMES  JACK period (default 64)\n",
            together_modes[0]);
}

int bench_session_main(int argc, char **argv)
{
    static const struct option opts[] = {{"minutes", required_argument, 0, 'm'},
                                         {"seconds", required_argument, 0, 's'},
                                         {"period", required_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    double seconds = 600;
    int period = 64;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': seconds = atof(optarg) * 60; break;
        case 's': seconds = atof(optarg); break;
        case 'p': period = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (seconds < 1 || seconds > 4 * 3600 || period < 16 || period > 8192) {
        fprintf(stderr, "bandmate bench session: the session lasts 1 s to 4 hours; --period 16..8192.\n");
        return 2;
    }
    char script[PATH_MAX];
    if (!realpath("scripts/call_response.lua", script)) {
        fprintf(stderr, "bandmate bench session: scripts/call_response.lua is not here; run it from bandmate's folder.\n");
        return 1;
    }
    char dir[] = "/tmp/bandmate-session-XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bandmate bench session: cannot create a scratch folder in /tmp.\n");
        return 1;
    }
    char perf[600], patch_path[600], log[600], err[1024];
    snprintf(perf, sizeof perf, "%s/perf.mid", dir);
    snprintf(patch_path, sizeof patch_path, "%s/session.lua", dir);
    snprintf(log, sizeof log, "%s/jackd.log", dir);
    FILE *pf = fopen(patch_path, "w");
    if (!pf) {
        fprintf(stderr, "bandmate bench session: cannot write %s.\n", patch_path);
        return 1;
    }
    fprintf(pf,
            "return {\n"
            "  name = \"live session benchmark\", mode = \"%s\", tempo = 110, monitor = true,\n"
            "  script = \"%s\",\n"
            "  parts = {\n"
            "    human = {instrument = \"keys\", voice = \"epiano\"},\n"
            "    bass = {instrument = \"bass\", voice = \"bass\"},\n"
            "    comping = {instrument = \"keys\", voice = \"guitar\"},\n"
            "    lead = {instrument = \"lead\", voice = \"trumpet\"},\n"
            "  },\n"
            "}\n",
            together_modes[0], script);
    fclose(pf);
    bm_patch patch;
    if (patch_load(patch_path, &patch, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate bench session: %s.\n", err);
        return 1;
    }
    bm_perfgen g = {110, 120, 2, 1, 3};
    int notes;
    if (perfgen_write(&g, perf, &notes, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate bench session: %s.\n", err);
        return 1;
    }

    bm_jackd jd;
    if (jackd_spawn(&jd, 48000, period, log, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate bench session: %s.\n", err);
        return 1;
    }
    bm_jack_opts jo = {0};
    jo.server_name = jd.name;
    jo.client_name = "bandmate";
    jo.audio_inputs = 1;
    bm_jack *jack = jack_driver_open(&jo, err, sizeof err);
    bm_engine_config cfg = patch.cfg;
    bm_engine *e = NULL;
    if (jack) {
        cfg.sample_rate = jack_driver_sample_rate(jack);
        e = engine_create(&cfg, err, sizeof err);
    }
    if (!e) {
        fprintf(stderr, "bandmate bench session: %s.\n", err);
        jack_driver_close(jack);
        jackd_stop(&jd);
        return 1;
    }
    bm_control_opts co;
    control_opts_defaults(&co);
    co.osc = 1;
    co.net.port = 0; /* a free port */
    co.script = patch.script;
    co.watch = 0;
    co.quiet = 1;
    /* as bandmate run does: the script's heap is reserved now and every page kept in memory */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
    mallopt(M_TOP_PAD, 4 << 20);
    size_t reserve = (size_t)BM_SCRIPT_DEFAULT_MEMORY + (4u << 20);
    void *heap = malloc(reserve);
    if (heap) memset(heap, 0, reserve);
    free(heap);
    mlockall(MCL_CURRENT | MCL_FUTURE);
    engine_prefault(e);
    bench_player pl = {0};
    bm_control *ctl = NULL;
    osc_client oc = {0};
    pthread_t osc_tid;
    int rc = 0, osc_started = 0;
    if (engine_start_musician_thread(e) != 0 || jack_driver_start(jack, e, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate bench session: could not start bandmate (%s).\n", err);
        rc = 1;
        goto out;
    }
    if (jack_driver_rt_priority(jack) > 1) engine_musician_priority(e, jack_driver_rt_priority(jack) - 1);
    ctl = control_create(e, jack, &patch, &co, err, sizeof err);
    if (!ctl || control_start(ctl, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate bench session: %s.\n", err);
        rc = 1;
        goto out;
    }
    if (bench_player_open(&pl, jd.name, "performer", perf, cfg.sample_rate, err, sizeof err) != 0 ||
        bench_player_start(&pl, "bandmate:midi_in") != 0) {
        fprintf(stderr, "bandmate bench session: the performer could not play (%s).\n", err);
        rc = 1;
        goto out;
    }
    oc.port = control_osc_port(ctl);
    osc_started = pthread_create(&osc_tid, NULL, osc_thread, &oc) == 0;
    printf("live session: %.0f s at 48 kHz, %d frames (%.0f us), mode %s, neural voices, script %s, OSC on port %d\n",
           seconds, period, period / 48.0 * 1000, cfg.mode, control_script_running(ctl) ? "running" : "STOPPED",
           oc.port);
    fflush(stdout);
    uint64_t xruns_start = jack_driver_xruns(jack);
    double t0 = bm_now_s(), last_report = t0;
    while (bm_now_s() - t0 < seconds) {
        control_poll(ctl, 20);
        engine_collect_garbage(e);
        if (bm_now_s() - last_report >= 60) {
            last_report = bm_now_s();
            printf("  %3.0f min: xruns %llu, slowest callback so far %.0f us\n", (last_report - t0) / 60,
                   (unsigned long long)(jack_driver_xruns(jack) - xruns_start),
                   (double)atomic_load(&engine_stats(e)->max_cycle_ns) / 1000.0);
            fflush(stdout);
        }
    }
    atomic_store(&oc.stop, 1);
    if (osc_started) pthread_join(osc_tid, NULL);
    osc_started = 0;
    jack_deactivate(pl.client);
    const bm_engine_stats *s = engine_stats(e);
    uint64_t xruns = jack_driver_xruns(jack) - xruns_start;
    int script_ok = control_script_running(ctl);
    printf("\nprocess callback, %llu periods, %llu performer notes, %llu band notes\n",
           (unsigned long long)atomic_load(&s->cycles), (unsigned long long)atomic_load(&s->human_notes),
           (unsigned long long)atomic_load(&s->band_notes));
    bench_print_callback(s, period / 48000.0 * 1e6);
    printf("xruns reported by JACK during the session: %llu; late band events %llu, late steps %llu\n",
           (unsigned long long)xruns, (unsigned long long)atomic_load(&s->late_events),
           (unsigned long long)atomic_load(&engine_musician_stats(e)->late_steps));
    printf("script: %s at the end; OSC: %ld messages sent, %ld received (%ld done, %ld failed)\n",
           script_ok ? "running" : "stopped", oc.sent, oc.received, oc.done, oc.failed);
    bench_player_close(&pl);
    control_destroy(ctl);
    ctl = NULL;
    jack_driver_close(jack);
    jack = NULL;
    jackd_stop(&jd);
    int ours, others;
    bench_jackd_log_xruns(log, "bandmate", &ours, &others);
    printf("jackd's log: %d periods in which bandmate had not finished, %d other xrun reports\n", ours, others);
    double ref_s = seconds < 120 ? seconds : 120;
    int base = bench_reference_xruns(period, ref_s, err, sizeof err);
    if (base >= 0)
        printf("reference, same machine and settings: a client writing silence saw %d xruns in %.0f s (%.1f a minute; bandmate %.1f a minute)\n",
               base, ref_s, base * 60 / ref_s, xruns * 60 / seconds);
    printf("(percentiles have 1 us resolution: the upper edge of the bin)\n");
out:
    atomic_store(&oc.stop, 1);
    if (osc_started) pthread_join(osc_tid, NULL);
    bench_player_close(&pl);
    control_destroy(ctl);
    jack_driver_close(jack);
    engine_destroy(e);
    jackd_stop(&jd);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "bandmate bench session: could not remove %s.\n", dir);
    return rc;
}
