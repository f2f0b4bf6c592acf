/* cmd_run.c: `bandmate run`: play live on a JACK server until stopped. */
#include "engine/cli.h"
#include "engine/behaviour.h"
#include "engine/cli_util.h"
#include "engine/control/control.h"
#include "engine/jack_driver.h"
#include "engine/keys.h"
#include "engine/patch.h"
#include "engine/pm_driver.h"
#include "engine/recorder.h"
#include "engine/status.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *f)
{
    char modes[256] = "", about[1024];
    for (int i = 0; bm_mode_names[i]; i++)
        snprintf(modes + strlen(modes), sizeof modes - strlen(modes), "%s%s", i ? ", " : "", bm_mode_names[i]);
    cli_mode_help(about, sizeof about);
    fprintf(f,
            "usage: bandmate run [PATCH] [options]\n"
            "\n"
            "Plays live on a running JACK server: listens on its MIDI input (and hardware MIDI),\n"
            "and plays the band on its audio and MIDI outputs. Stop with Ctrl-C. Every session is\n"
            "recorded (MIDI with one track per part, and WAV) unless --no-record.\n"
            "\n"
            "  PATCH                a patch file (patches/*.lua); without one, the built-in default\n"
            "  --server NAME        the JACK server's name (default: $JACK_DEFAULT_SERVER or 'default')\n"
            "  --name NAME          this client's name in JACK (default bandmate)\n"
            "  --auto-connect       connect to the physical audio and MIDI ports\n"
            "  --out PORT           connect out_L and out_R to PORT and the next --out (give it twice)\n"
            "  --in PORT            connect an audio input (give it twice for two inputs)\n"
            "  --audio-inputs N     how many audio inputs to create (0, 1, 2; default from the patch)\n"
            "  --midi-in PORT       take the performer's MIDI from this JACK port (repeatable)\n"
            "  --midi-out PORT      send the band's MIDI to this JACK port (repeatable)\n"
            "  --pm-in NAME         a hardware MIDI input, by part of its name (see 'bandmate devices')\n"
            "  --pm-out NAME        a hardware MIDI output, by part of its name\n"
            "  --mode NAME          the band's mode (%s)\n"
            "  --script FILE        run this Lua behaviour script (instead of the patch's)\n"
            "  --no-script          run no script, even if the patch names one\n"
            "  --no-watch           do not reload the script when its file changes\n"
            "  --osc-port N         the OSC port, UDP (default 57140; 0: any free port)\n"
            "  --osc-bind ADDR      the address OSC listens on (default: every IPv4 interface)\n"
            "  --osc-allow ADDR     accept OSC only from this address or network, like\n"
            "                       192.168.1.0/24 (repeatable; default: from anyone)\n"
            "  --osc-tcp            accept OSC over TCP as well, on the same port number\n"
            "  --osc-lua            run Lua code sent to /bm/lua (off unless asked for)\n"
            "  --no-osc             no OSC server\n"
            "  --tempo BPM          starting tempo\n"
            "  --tempo-source SRC   internal, jack (follow JACK transport), midi_clock or performer\n"
            "                       (follow the performer's beat, from MIDI notes and audio onsets)\n"
            "  --follow X           how tightly to follow the performer's tempo, 0..1 (default 1)\n"
            "  --listen MODE        listen to an audio input: off, mono (voice, sax, a guitar line:\n"
            "                       notes) or poly (chords: onsets and harmony)\n"
            "  --listen-input N     which audio input to listen to: 1 or 2 (default 1)\n"
            "  --timebase-master    give JACK transport bandmate's bars and beats\n"
            "  --midi-clock-out     send MIDI clock (24 ppqn) on the MIDI output\n"
            "  --monitor            play the performer's MIDI through bandmate's keys too\n"
            "  --record DIR         where recordings go (default ./recordings)\n"
            "  --no-record          do not record\n"
            "  --duration SECONDS   stop by itself after this long\n"
            "  --status             print a status line even when not on a terminal\n"
            "  --quiet              no status line\n"
            "  --seed N             random seed\n"
            "  -h, --help           this help\n"
            "\n"
            "%s"
            "\n"
            "Keys while it plays (in a terminal): t tap tempo, space start/stop, + and - tempo,\n"
            "m next mode, p panic (all notes off), q quit.\n"
            "\n"
            "Exit status: 0 when stopped, 1 when it could not start, 3 when the JACK server went away.\n"
            "OSC addresses: docs/osc.md; scripts: docs/lua.md; patches: docs/patches.md.\n",
            modes, about);
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"server", required_argument, 0, 'S'},     {"name", required_argument, 0, 'n'},
        {"auto-connect", no_argument, 0, 'a'},     {"out", required_argument, 0, 'o'},
        {"in", required_argument, 0, 'i'},         {"audio-inputs", required_argument, 0, 'A'},
        {"midi-in", required_argument, 0, 'I'},    {"midi-out", required_argument, 0, 'O'},
        {"pm-in", required_argument, 0, 'p'},      {"pm-out", required_argument, 0, 'P'},
        {"mode", required_argument, 0, 'M'},       {"tempo", required_argument, 0, 't'},
        {"tempo-source", required_argument, 0, 'T'}, {"timebase-master", no_argument, 0, 'B'},
        {"midi-clock-out", no_argument, 0, 'C'},   {"monitor", no_argument, 0, 'm'},
        {"record", required_argument, 0, 'r'},     {"no-record", no_argument, 0, 'R'},
        {"duration", required_argument, 0, 'd'},   {"status", no_argument, 0, 's'},
        {"quiet", no_argument, 0, 'q'},            {"seed", required_argument, 0, 'e'},
        {"script", required_argument, 0, 1001},    {"no-script", no_argument, 0, 1002},
        {"no-watch", no_argument, 0, 1003},        {"osc-port", required_argument, 0, 1004},
        {"osc-bind", required_argument, 0, 1005},  {"osc-allow", required_argument, 0, 1006},
        {"osc-tcp", no_argument, 0, 1007},         {"osc-lua", no_argument, 0, 1008},
        {"no-osc", no_argument, 0, 1009},
        {"help", no_argument, 0, 'h'},             {"listen", required_argument, 0, 'l'},
        {"listen-input", required_argument, 0, 'N'}, {"follow", required_argument, 0, 'f'},
        {0, 0, 0, 0}};
    bm_jack_opts jo = {0};
    const char *outs[2] = {0}, *ins[2] = {0}, *pm_in = NULL, *pm_out = NULL, *mode = NULL;
    const char *record_dir = "recordings", *source = NULL;
    int nouts = 0, nins = 0, record = 1, status_forced = 0, quiet = 0, monitor = 0, clock_out = 0;
    double tempo = 0, duration = 0, audio_inputs = -1, follow = -1, listen_input = 0;
    const char *listen = NULL;
    uint64_t seed = 0;
    int have_seed = 0;
    const char *script = NULL, *osc_bind = NULL, *allow_args[OSC_NET_MAX_ALLOW];
    int no_script = 0, no_watch = 0, osc_tcp = 0, osc_lua = 0, no_osc = 0, n_allow = 0;
    double osc_port = -1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'S': jo.server_name = optarg; break;
        case 'n': jo.client_name = optarg; break;
        case 'a': jo.auto_connect = 1; break;
        case 'o':
            if (nouts == 2) { fprintf(stderr, "bandmate run: --out takes two ports at most (left, right).\n"); return 2; }
            outs[nouts++] = optarg;
            break;
        case 'i':
            if (nins == 2) { fprintf(stderr, "bandmate run: --in takes two ports at most.\n"); return 2; }
            ins[nins++] = optarg;
            break;
        case 'A': if (cli_number("run", "--audio-inputs", optarg, 0, 2, &audio_inputs)) return 2; break;
        case 'I':
            if (jo.n_midi_in == BM_JACK_MAX_CONNECT) { fprintf(stderr, "bandmate run: too many --midi-in.\n"); return 2; }
            jo.midi_in[jo.n_midi_in++] = optarg;
            break;
        case 'O':
            if (jo.n_midi_out == BM_JACK_MAX_CONNECT) { fprintf(stderr, "bandmate run: too many --midi-out.\n"); return 2; }
            jo.midi_out[jo.n_midi_out++] = optarg;
            break;
        case 'p': pm_in = optarg; break;
        case 'P': pm_out = optarg; break;
        case 'M': mode = optarg; break;
        case 't': if (cli_number("run", "--tempo", optarg, BM_MIN_BPM, BM_MAX_BPM, &tempo)) return 2; break;
        case 'T': source = optarg; break;
        case 'B': jo.timebase_master = 1; break;
        case 'C': clock_out = 1; break;
        case 'm': monitor = 1; break;
        case 'r': record_dir = optarg; break;
        case 'R': record = 0; break;
        case 'd': if (cli_number("run", "--duration", optarg, 0.01, 1e7, &duration)) return 2; break;
        case 's': status_forced = 1; break;
        case 'q': quiet = 1; break;
        case 'e': if (cli_u64("run", "--seed", optarg, &seed)) return 2; have_seed = 1; break;
        case 1001: script = optarg; break;
        case 1002: no_script = 1; break;
        case 1003: no_watch = 1; break;
        case 1004: if (cli_number("run", "--osc-port", optarg, 0, 65535, &osc_port)) return 2; break;
        case 1005: osc_bind = optarg; break;
        case 1006:
            if (n_allow == OSC_NET_MAX_ALLOW) {
                fprintf(stderr, "bandmate run: --osc-allow takes %d addresses at most.\n", OSC_NET_MAX_ALLOW);
                return 2;
            }
            allow_args[n_allow++] = optarg;
            break;
        case 1007: osc_tcp = 1; break;
        case 1008: osc_lua = 1; break;
        case 1009: no_osc = 1; break;
        case 'l': listen = optarg; break;
        case 'N': if (cli_number("run", "--listen-input", optarg, 1, 2, &listen_input)) return 2; break;
        case 'f': if (cli_number("run", "--follow", optarg, 0, 1, &follow)) return 2; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "bandmate run: '%s' is not an option here; 'bandmate run --help' lists them.\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "bandmate run: one patch at a time ('%s' is one too many).\n", argv[optind + 1]);
        return 2;
    }
    char err[1024];
    bm_patch patch;
    if (optind < argc) {
        if (patch_load(argv[optind], &patch, err, sizeof err) != 0) {
            fprintf(stderr, "bandmate run: %s.\n", err);
            return 1;
        }
    } else {
        patch_defaults(&patch);
    }
    bm_engine_config cfg = patch.cfg;
    if (mode) snprintf(cfg.mode, sizeof cfg.mode, "%s", mode);
    if (tempo > 0) cfg.bpm = tempo;
    if (have_seed) cfg.seed = seed;
    if (monitor) cfg.monitor_human = 1;
    if (clock_out) cfg.midi_clock_out = 1;
    if (source) {
        if (!strcmp(source, "internal")) cfg.tempo_source = BM_TEMPO_INTERNAL;
        else if (!strcmp(source, "jack")) cfg.tempo_source = BM_TEMPO_JACK;
        else if (!strcmp(source, "midi_clock")) cfg.tempo_source = BM_TEMPO_MIDI_CLOCK;
        else if (!strcmp(source, "performer")) cfg.tempo_source = BM_TEMPO_PERFORMER;
        else {
            fprintf(stderr, "bandmate run: --tempo-source '%s' is not one of internal, jack, midi_clock, performer.\n", source);
            return 2;
        }
    }
    if (listen) {
        int m = listen_audio_from_name(listen);
        if (m < 0) {
            fprintf(stderr, "bandmate run: --listen '%s' is not one of off, mono, poly.\n", listen);
            return 2;
        }
        cfg.listen.audio = m;
    }
    if (listen_input > 0) cfg.listen.input = (int)listen_input - 1;
    if (follow >= 0) cfg.listen.follow = follow;
    jo.audio_inputs = audio_inputs >= 0 ? (int)audio_inputs : patch.audio_inputs;
    for (int i = 0; i < 2; i++) {
        jo.audio_out[i] = outs[i] ? outs[i] : (patch.connect_audio_out[i][0] ? patch.connect_audio_out[i] : NULL);
        jo.audio_in[i] = ins[i] ? ins[i] : (patch.connect_audio_in[i][0] ? patch.connect_audio_in[i] : NULL);
    }
    if (nouts == 1) jo.audio_out[1] = NULL;
    if (nins > jo.audio_inputs) jo.audio_inputs = nins;
    if (cfg.listen.audio != BM_LISTEN_OFF && jo.audio_inputs < cfg.listen.input + 1) {
        if (audio_inputs >= 0) {
            fprintf(stderr, "bandmate run: listening to audio input %d needs --audio-inputs %d or more.\n",
                    cfg.listen.input + 1, cfg.listen.input + 1);
            return 2;
        }
        jo.audio_inputs = cfg.listen.input + 1;
    }
    if (!jo.n_midi_in)
        for (int i = 0; i < patch.n_midi_in; i++) jo.midi_in[jo.n_midi_in++] = patch.connect_midi_in[i];
    if (!jo.n_midi_out)
        for (int i = 0; i < patch.n_midi_out; i++) jo.midi_out[jo.n_midi_out++] = patch.connect_midi_out[i];
    if (!pm_in && patch.pm_input[0]) pm_in = patch.pm_input;
    if (!pm_out && patch.pm_output[0]) pm_out = patch.pm_output;
    if (patch.auto_connect) jo.auto_connect = 1;

    /* the control thread: OSC and the script */
    bm_control_opts co;
    control_opts_defaults(&co);
    co.osc = !no_osc;
    int port_chosen = osc_port >= 0 || patch.osc_port > 0;
    co.net.port = osc_port >= 0 ? (int)osc_port : patch.osc_port > 0 ? patch.osc_port : BM_OSC_DEFAULT_PORT;
    co.net.bind = osc_bind ? osc_bind : patch.osc_bind[0] ? patch.osc_bind : NULL;
    co.net.tcp = osc_tcp || patch.osc_tcp;
    co.osc_lua = osc_lua || patch.osc_lua;
    for (int i = 0; i < (n_allow ? n_allow : patch.n_osc_allow); i++) {
        const char *a = n_allow ? allow_args[i] : patch.osc_allow[i];
        if (osc_allow_parse(a, &co.net.allow[co.net.nallow++], err, sizeof err) != 0) {
            fprintf(stderr, "bandmate run: --osc-allow: %s.\n", err);
            return 2;
        }
    }
    co.script = no_script ? NULL : script ? script : patch.script[0] ? patch.script : NULL;
    if (co.script && access(co.script, R_OK) != 0) {
        fprintf(stderr, "bandmate run: the script %s does not exist or cannot be read.\n", co.script);
        return 1;
    }
    if (co.script && control_check_script(co.script, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate run: the script has an error: %s.\n", err);
        return 1;
    }
    co.script_allow = patch.script_allow;
    if (patch.script_memory_mb > 0) co.script_memory = (size_t)(patch.script_memory_mb * 1048576.0);
    if (patch.script_budget_ms > 0) co.script_budget_ms = patch.script_budget_ms;
    co.watch = !no_watch;
    co.quiet = 0;

    bm_jack *jack = jack_driver_open(&jo, err, sizeof err);
    if (!jack) {
        fprintf(stderr, "bandmate run: %s.\n", err);
        return 1;
    }
    cfg.sample_rate = jack_driver_sample_rate(jack);
    cfg.record = record;
    bm_engine *e = engine_create(&cfg, err, sizeof err);
    if (!e) {
        fprintf(stderr, "bandmate run: %s.\n", err);
        jack_driver_close(jack);
        return 1;
    }
    bm_recorder *rec = NULL;
    char mid_path[2048] = "", wav_path[2048] = "";
    if (record) {
        if (mkdir(record_dir, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "bandmate run: cannot create the recordings folder %s: %s.\n", record_dir, strerror(errno));
            engine_destroy(e);
            jack_driver_close(jack);
            return 1;
        }
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        char stamp[64];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(mid_path, sizeof mid_path, "%s/session-%s.mid", record_dir, stamp);
        snprintf(wav_path, sizeof wav_path, "%s/session-%s.wav", record_dir, stamp);
        ring *rev, *raud;
        engine_record_rings(e, &rev, &raud);
        rec = recorder_create(mid_path, wav_path, rev, raud, cfg.sample_rate, cfg.bpm, cfg.beats_per_bar,
                              cfg.beat_unit, err, sizeof err);
        if (!rec || recorder_start_thread(rec) != 0) {
            fprintf(stderr, "bandmate run: %s.\n", rec ? "could not start the recorder" : err);
            recorder_destroy(rec);
            engine_destroy(e);
            jack_driver_close(jack);
            return 1;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = 0;
    bm_pm *pm = NULL;
    /* A script's memory comes from the heap and stays there (no mmap or munmap while playing: they
     * hold the memory-map lock that the JACK thread's shared futexes need), and the heap is grown
     * now to hold it; then keep every page in memory, faulted in before the first period. */
    if (co.script || co.osc_lua) {
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, INT_MAX);
        mallopt(M_TOP_PAD, 4 << 20);
        size_t reserve = co.script_memory + (4u << 20);
        void *heap = malloc(reserve);
        if (heap) memset(heap, 0, reserve);
        free(heap);
    }
    mlockall(MCL_CURRENT | MCL_FUTURE);
    engine_prefault(e);
    if (engine_start_musician_thread(e) != 0) {
        fprintf(stderr, "bandmate run: could not start the musician thread.\n");
        rc = 1;
    } else if (jack_driver_start(jack, e, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate run: %s.\n", err);
        rc = 1;
    } else if (jack_driver_rt_priority(jack) > 1) {
        /* just below the audio thread: the lookahead absorbs the rest */
        engine_musician_priority(e, jack_driver_rt_priority(jack) - 1);
    }
    if (rc == 0 && (pm_in || pm_out) &&
        !(pm = pm_driver_open(e, pm_in, pm_out, jack_driver_buffer_size(jack), err, sizeof err))) {
        fprintf(stderr, "bandmate run: %s.\n", err);
        rc = 1;
    }
    bm_control *ctl = NULL;
    if (rc == 0) {
        ctl = control_create(e, jack, &patch, &co, err, sizeof err);
        if (!ctl && co.osc && !port_chosen && strstr(err, "in use")) {
            /* the default port is taken (another bandmate?): play on without OSC rather than not at all */
            fprintf(stderr, "bandmate run: OSC is off: %s.\n", err);
            co.osc = 0;
            ctl = control_create(e, jack, &patch, &co, err, sizeof err);
        }
        if (!ctl || control_start(ctl, err, sizeof err) != 0) {
            fprintf(stderr, "bandmate run: %s.\n", err);
            rc = 1;
        }
    }
    if (rc == 0) {
        int show = !quiet && (status_forced || isatty(STDOUT_FILENO));
        if (!quiet) {
            printf("bandmate is playing as JACK client '%s' (%.0f Hz, %u frames), patch '%s', mode %s.\n",
                   jack_driver_client_name(jack), cfg.sample_rate, jack_driver_buffer_size(jack), patch.name, cfg.mode);
            if (record) printf("recording to %s and %s\n", mid_path, wav_path);
            if (control_osc_port(ctl))
                printf("OSC on UDP port %d%s%s (docs/osc.md)\n", control_osc_port(ctl), co.net.tcp ? " and TCP" : "",
                       co.osc_lua ? ", Lua over OSC allowed" : "");
            if (co.script) printf("script %s%s\n", co.script, control_script_running(ctl) ? "" : " (stopped: its init() failed)");
            if (patch.model[0]) printf("musician model %s (played in mode accompany)\n", patch.model);
            fflush(stdout);
        }
        bm_status st;
        status_init(&st, e, jack, cfg.mode);
        control_attach_status(ctl, &st);
        if (!quiet && keys_start())
            printf("keys: t tap tempo, space start/stop, + - tempo, m mode, p panic, q quit\n");
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        double last_status = 0;
        char why[256];
        while (!stop_requested) {
            control_poll(ctl, 20);
            engine_collect_garbage(e);
            if (keys_poll(e, st.mode, sizeof st.mode)) break;
            status_poll(&st);
            clock_gettime(CLOCK_MONOTONIC, &t);
            double elapsed = (double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) * 1e-9;
            if (jack_driver_gone(jack, why, sizeof why)) {
                if (show) printf("\n");
                fprintf(stderr, "bandmate run: the JACK server went away (%s)%s.\n", why,
                        record ? "; the recording is saved" : "");
                rc = 3;
                break;
            }
            if (show && elapsed - last_status >= (isatty(STDOUT_FILENO) ? 0.2 : 1.0)) {
                status_print(&st, stdout, isatty(STDOUT_FILENO));
                last_status = elapsed;
            }
            if (duration > 0 && elapsed >= duration) break;
        }
        keys_stop();
        if (show) printf("\n");
        if (!quiet) status_summary(&st, stdout);
    }
    /* the script's cleanup() runs while the engine still plays; then stop the sources, then save
     * everything they produced, then free the engine whose rings the recorder reads */
    control_destroy(ctl);
    pm_driver_close(pm);
    jack_driver_close(jack);
    if (rec) {
        if (recorder_finish(rec, err, sizeof err) != 0) {
            fprintf(stderr, "bandmate run: the recording could not be completed: %s.\n", err);
            if (rc == 0) rc = 1;
        } else if (!quiet) {
            printf("saved %s and %s\n", mid_path, wav_path);
        }
        recorder_destroy(rec);
    }
    engine_destroy(e);
    return rc;
}
