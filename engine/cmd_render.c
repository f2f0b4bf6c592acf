/* cmd_render.c: `bandmate render`: a performer's MIDI file and/or audio through bandmate, offline. */
#include "engine/behaviour.h"
#include "engine/cli.h"
#include "engine/cli_util.h"
#include "engine/musician/mus_model.h"
#include "engine/offline.h"
#include "engine/patch.h"
#include "engine/pianoroll.h"
#include "engine/session_stats.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    char about[1024];
    cli_mode_help(about, sizeof about);
    fprintf(f,
            "usage: bandmate render --in HUMAN.mid|--in-wav HUMAN.wav [--out-mid OUT.mid] [--out-wav OUT.wav] [options]\n"
            "\n"
            "Plays a performer's part (a MIDI file, a recording, or both) through bandmate offline,\n"
            "faster than real time, with the same engine as 'bandmate run', and writes the session: a\n"
            "MIDI file with one track per part (human, bass, drums, comping, lead) and a stereo WAV.\n"
            "\n"
            "  --in FILE          the performer's part: the track named 'human', or every track\n"
            "  --in-wav FILE      the performer's audio (mono): listened to like a live input, its notes\n"
            "                     go to the human track, and it is mixed into --out-wav\n"
            "  --listen MODE      how to listen to the audio: mono (a melody line, the default) or poly\n"
            "  --tempo-source S   file (the MIDI file's tempo map, the default) or performer (follow\n"
            "                     the performer's beat)\n"
            "  --follow X         how tightly to follow the performer's tempo, 0..1 (default 1)\n"
            "  --out-mid FILE     the session as MIDI\n"
            "  --out-wav FILE     the session as audio (24-bit WAV)\n"
            "  --out-png FILE     a piano-roll picture of the session, one colour per part\n"
            "  --patch FILE       a patch (patches/*.lua); without one, the built-in default, in which\n"
            "                     the shipped musician accompanies whatever the performer plays\n"
            "  --mode NAME        override the patch's mode (see Modes below)\n"
            "  --model FILE       the musician model for accompany, call-and-response and duet\n"
            "                     (default models/musician.bmnn)\n"
            "  --seed N           random seed (the same seed gives the same session)\n"
            "  --tempo BPM        ignore the file's tempo map and play at this tempo\n"
            "  --sample-rate HZ   default 48000, or the rate of --in-wav\n"
            "  --block FRAMES     period size, default 256\n"
            "  --tail SECONDS     keep playing after the performer's last note, default 2\n"
            "  --quiet            print nothing but errors (no summary)\n"
            "  -h, --help         this help\n"
            "\n"
            "Afterwards it prints a summary of the session: the performer's notes and the band's notes per\n"
            "part, the tempo the band kept (at the first and the last note), the band's reaction (from a\n"
            "performer's note to the first band note planned after hearing it: median, 90%%, max) and,\n"
            "when the performer leaves rests of a beat or more, how many of their phrases the band's lead\n"
            "answered and how soon (from the release of the phrase's last note to the lead's first note).\n"
            "\n"
            "%s",
            about);
}

/* Removes a scratch session file and its folder. */
static void remove_scratch(const char *path)
{
    if (!path[0]) return;
    remove(path);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = 0;
        rmdir(dir);
    }
}

int cmd_render(int argc, char **argv)
{
    static const struct option opts[] = {
        {"in", required_argument, 0, 'i'},        {"out-mid", required_argument, 0, 'm'},
        {"out-wav", required_argument, 0, 'w'},   {"out-png", required_argument, 0, 'g'},   {"patch", required_argument, 0, 'p'},
        {"mode", required_argument, 0, 'M'},      {"seed", required_argument, 0, 's'},
        {"tempo", required_argument, 0, 't'},     {"sample-rate", required_argument, 0, 'r'},
        {"block", required_argument, 0, 'b'},     {"tail", required_argument, 0, 'T'},
        {"quiet", no_argument, 0, 'q'},           {"help", no_argument, 0, 'h'},
        {"in-wav", required_argument, 0, 'W'},    {"listen", required_argument, 0, 'L'},
        {"tempo-source", required_argument, 0, 'S'}, {"follow", required_argument, 0, 'F'},
        {"model", required_argument, 0, 'D'},     {0, 0, 0, 0}};
    const char *out_png = NULL;
    const char *in = NULL, *out_mid = NULL, *out_wav = NULL, *patch_path = NULL, *mode = NULL;
    const char *in_wav = NULL, *listen = NULL, *source = NULL;
    double tempo = 0, sr = 0, block = 256, tail = 2, follow = -1;
    uint64_t seed = 0;
    int have_seed = 0, quiet = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'i': in = optarg; break;
        case 'm': out_mid = optarg; break;
        case 'w': out_wav = optarg; break;
        case 'g': out_png = optarg; break;
        case 'p': patch_path = optarg; break;
        case 'M': mode = optarg; break;
        case 's': if (cli_u64("render", "--seed", optarg, &seed)) return 2; have_seed = 1; break;
        case 't': if (cli_number("render", "--tempo", optarg, 20, 400, &tempo)) return 2; break;
        case 'r': if (cli_number("render", "--sample-rate", optarg, 8000, 384000, &sr)) return 2; break;
        case 'b': if (cli_number("render", "--block", optarg, 16, 8192, &block)) return 2; break;
        case 'T': if (cli_number("render", "--tail", optarg, 0, 600, &tail)) return 2; break;
        case 'q': quiet = 1; break;
        case 'D': behaviour_set_model_path(optarg); break;
        case 'W': in_wav = optarg; break;
        case 'L': listen = optarg; break;
        case 'S': source = optarg; break;
        case 'F': if (cli_number("render", "--follow", optarg, 0, 1, &follow)) return 2; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "bandmate render: '%s' is not an option here; 'bandmate render --help' lists them.\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bandmate render: unexpected '%s'; the input goes after --in.\n", argv[optind]);
        return 2;
    }
    if (!in && !in_wav) {
        fprintf(stderr, "bandmate render: say which performance to play with --in HUMAN.mid and/or --in-wav HUMAN.wav.\n");
        return 2;
    }
    int listen_mode = -1;
    if (listen && ((listen_mode = listen_audio_from_name(listen)) < 0 || listen_mode == BM_LISTEN_OFF)) {
        fprintf(stderr, "bandmate render: --listen '%s' is not one of mono, poly.\n", listen);
        return 2;
    }
    if (source && strcmp(source, "file") && strcmp(source, "performer")) {
        fprintf(stderr, "bandmate render: --tempo-source '%s' is not one of file, performer.\n", source);
        return 2;
    }
    if (!out_mid && !out_wav && !out_png) {
        fprintf(stderr, "bandmate render: say where to write the session with --out-mid, --out-wav and/or --out-png.\n");
        return 2;
    }
    char err[1024];
    bm_patch patch;
    if (patch_path) {
        if (patch_load(patch_path, &patch, err, sizeof err) != 0) {
            fprintf(stderr, "bandmate render: %s.\n", err);
            return 1;
        }
    } else if (mode) { /* the mode is given: the default patch's own choice of mode does not matter */
        memset(&patch, 0, sizeof patch);
        snprintf(patch.name, sizeof patch.name, "default (%s)", mode);
        engine_config_defaults(&patch.cfg);
        patch.audio_inputs = 1;
    } else {
        patch_defaults(&patch);
    }
    bm_engine_config cfg = patch.cfg;
    if (mode) snprintf(cfg.mode, sizeof cfg.mode, "%s", mode);
    if (behaviour_mode_uses_model(cfg.mode)) { /* say why the musician cannot play, not just that it cannot */
        mus_model *m = mus_model_shared(behaviour_model_path(), err, sizeof err);
        if (!m) {
            fprintf(stderr, "bandmate render: %s.\n", err);
            return 1;
        }
        mus_model_release(m);
    }
    if (have_seed) cfg.seed = seed;
    if (sr > 0) cfg.sample_rate = sr;
    cfg.monitor_human = 1; /* the rendered audio carries the performer's part too */
    if (listen_mode > 0) cfg.listen.audio = listen_mode;
    if (source && !strcmp(source, "performer")) cfg.tempo_source = BM_TEMPO_PERFORMER;
    if (follow >= 0) cfg.listen.follow = follow;
    bm_render_opts o;
    render_opts_defaults(&o);
    o.in_mid = in;
    o.patch = patch_path ? &patch : NULL;
    o.in_wav = in_wav;
    o.wav_sets_rate = sr <= 0;
    char tmp_mid[4200] = "";
    if (!out_mid) { /* the picture and the summary are drawn from the session's MIDI */
        char dir[] = "/tmp/bandmate-render-XXXXXX";
        if (!mkdtemp(dir)) {
            fprintf(stderr, "bandmate render: cannot create a scratch folder in /tmp.\n");
            return 1;
        }
        snprintf(tmp_mid, sizeof tmp_mid, "%s/session.mid", dir);
    }
    o.out_mid = out_mid ? out_mid : tmp_mid[0] ? tmp_mid : NULL;
    o.out_wav = out_wav;
    o.block = (uint32_t)block;
    o.tail_seconds = tail;
    if (tempo > 0) {
        o.follow_file_tempo = 0;
        cfg.bpm = tempo;
    }
    bm_render_result res;
    if (render_file(&cfg, &o, &res, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate render: %s.\n", err);
        remove_scratch(tmp_mid);
        return 1;
    }
    if (out_png && pianoroll_write(o.out_mid, out_png, 0, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate render: %s.\n", err);
        remove_scratch(tmp_mid);
        return 1;
    }
    bm_session_timing timing;
    session_timing_defaults(&timing);
    timing.sample_rate = res.seconds > 0 ? (double)res.frames / res.seconds : cfg.sample_rate;
    timing.block = (int)o.block;
    timing.lookahead_ms = cfg.lookahead_ms;
    bm_session_stats stats;
    int have_stats = quiet ? 0 : session_stats_read(o.out_mid, &timing, &stats, err, sizeof err) == 0;
    if (!quiet && !have_stats) fprintf(stderr, "bandmate render: no summary: %s.\n", err);
    remove_scratch(tmp_mid);
    if (!quiet) {
        int mins = (int)(res.seconds / 60);
        printf("rendered %d:%04.1f of music in %.2f s (%.0fx real time) with patch '%s', mode %s, %.1f BPM\n",
               mins, res.seconds - mins * 60, res.wall_seconds,
               res.wall_seconds > 0 ? res.seconds / res.wall_seconds : 0, patch.name, cfg.mode,
               res.first_bpm);
        printf("performer notes %llu, band notes %llu, late events %llu, late steps %llu, dropped %llu\n",
               (unsigned long long)res.human_notes, (unsigned long long)res.band_notes,
               (unsigned long long)res.late_events, (unsigned long long)res.late_steps,
               (unsigned long long)res.dropped);
        if (in_wav)
            printf("heard in the audio: %llu %s (analysis latency %.1f ms, compensated), %llu phrases\n",
                   (unsigned long long)res.audio_notes, cfg.listen.audio == BM_LISTEN_POLY ? "onsets" : "notes",
                   res.mean_latency_ms, (unsigned long long)res.phrases);
        if (cfg.tempo_source == BM_TEMPO_PERFORMER)
            printf("followed the performer's tempo: %.1f BPM at the start, %.1f BPM at the end\n", res.first_bpm,
                   res.last_bpm);
        if (have_stats) {
            printf("summary (mode %s):\n", cfg.mode);
            session_stats_print(&stats, stdout, "  ");
        }
        if (out_mid) printf("wrote %s\n", out_mid);
        if (out_wav) printf("wrote %s\n", out_wav);
        if (out_png) printf("wrote %s\n", out_png);
    }
    return 0;
}
