/* cmd_render.c: `bandmate render`: a performer's MIDI file through bandmate, offline. */
#include "engine/behaviour.h"
#include "engine/cli.h"
#include "engine/cli_util.h"
#include "engine/musician/mus_model.h"
#include "engine/offline.h"
#include "engine/patch.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bandmate render --in HUMAN.mid [--out-mid OUT.mid] [--out-wav OUT.wav] [options]\n"
            "\n"
            "Plays a performer's part (a MIDI file) through bandmate offline, faster than real time,\n"
            "with the same engine as 'bandmate run', and writes the session: a MIDI file with one\n"
            "track per part (human, bass, drums, comping, lead) and a stereo WAV.\n"
            "\n"
            "  --in FILE          the performer's part: the track named 'human', or every track\n"
            "  --out-mid FILE     the session as MIDI\n"
            "  --out-wav FILE     the session as audio (24-bit WAV)\n"
            "  --patch FILE       a patch (patches/*.lua); without one, the built-in default, in which\n"
            "                     the shipped musician accompanies whatever the performer plays\n"
            "  --mode NAME        override the patch's mode (accompany, echo, silent)\n"
            "  --model FILE       the musician model for accompany (default models/musician.bmnn)\n"
            "  --seed N           random seed (the same seed gives the same session)\n"
            "  --tempo BPM        ignore the file's tempo map and play at this tempo\n"
            "  --sample-rate HZ   default 48000\n"
            "  --block FRAMES     period size, default 256\n"
            "  --tail SECONDS     keep playing after the performer's last note, default 2\n"
            "  --quiet            print nothing but errors\n"
            "  -h, --help         this help\n");
}

int cmd_render(int argc, char **argv)
{
    static const struct option opts[] = {
        {"in", required_argument, 0, 'i'},        {"out-mid", required_argument, 0, 'm'},
        {"out-wav", required_argument, 0, 'w'},   {"patch", required_argument, 0, 'p'},
        {"mode", required_argument, 0, 'M'},      {"seed", required_argument, 0, 's'},
        {"tempo", required_argument, 0, 't'},     {"sample-rate", required_argument, 0, 'r'},
        {"block", required_argument, 0, 'b'},     {"tail", required_argument, 0, 'T'},
        {"quiet", no_argument, 0, 'q'},           {"help", no_argument, 0, 'h'},
        {"model", required_argument, 0, 'L'},     {0, 0, 0, 0}};
    const char *in = NULL, *out_mid = NULL, *out_wav = NULL, *patch_path = NULL, *mode = NULL;
    double tempo = 0, sr = 0, block = 256, tail = 2;
    uint64_t seed = 0;
    int have_seed = 0, quiet = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': in = optarg; break;
        case 'm': out_mid = optarg; break;
        case 'w': out_wav = optarg; break;
        case 'p': patch_path = optarg; break;
        case 'M': mode = optarg; break;
        case 's': if (cli_u64("render", "--seed", optarg, &seed)) return 2; have_seed = 1; break;
        case 't': if (cli_number("render", "--tempo", optarg, 20, 400, &tempo)) return 2; break;
        case 'r': if (cli_number("render", "--sample-rate", optarg, 8000, 384000, &sr)) return 2; break;
        case 'b': if (cli_number("render", "--block", optarg, 16, 8192, &block)) return 2; break;
        case 'T': if (cli_number("render", "--tail", optarg, 0, 600, &tail)) return 2; break;
        case 'q': quiet = 1; break;
        case 'L': behaviour_set_model_path(optarg); break;
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
    if (!in) {
        fprintf(stderr, "bandmate render: say which performance to play with --in HUMAN.mid.\n");
        return 2;
    }
    if (!out_mid && !out_wav) {
        fprintf(stderr, "bandmate render: say where to write the session with --out-mid and/or --out-wav.\n");
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
    if (!strcmp(cfg.mode, "accompany")) { /* say why the musician cannot play, not just that it cannot */
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
    bm_render_opts o;
    render_opts_defaults(&o);
    o.in_mid = in;
    o.out_mid = out_mid;
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
        return 1;
    }
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
        if (out_mid) printf("wrote %s\n", out_mid);
        if (out_wav) printf("wrote %s\n", out_wav);
    }
    return 0;
}
