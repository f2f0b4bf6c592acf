/* cmd_eval.c: `bandmate eval`: the musician on held-out songs; `bandmate eval voices`: the timbre
 * decoder on held-out notes (engine/voice/cmd_eval_voices.c). */
#include "engine/cli.h"
#include "engine/cli_util.h"
#include "engine/musician/mus_eval.h"
#include "engine/together.h"
#include "engine/voice/voice_eval_cmd.h"

#include <string.h>

#include <getopt.h>
#include <stdio.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bandmate eval --corpus DIR [--model MODEL.bmnn] [options]\n"
            "       bandmate eval voices [options]   (the timbre voices; 'bandmate eval voices --help')\n"
            "       bandmate eval together [options] (answers, reactions, key change and tempo drift per mode;\n"
            "                                        'bandmate eval together --help')\n"
            "\n"
            "Evaluates the musician on the corpus's test songs, the model always online (it hears only\n"
            "the past): per-step negative log-likelihood of each head beside a PPM baseline (orders\n"
            "1..8, the best chosen on the validation songs, trained on the training songs); note-in-chord\n"
            "ratios of the generated bass and comping when the performer plays the chords, the melody\n"
            "only, or the melody with the chart given, beside the corpus's own; rhythm and diversity;\n"
            "recovery after an abrupt key change; the latency of one musician step and, with\n"
            "--performance, of the offline engine from a performer's note to the band's reaction.\n"
            "\n"
            "  --corpus DIR        the corpus (test split: charts' split lines or a test/ folder)\n"
            "  --model FILE        the model (default: the shipped models/musician.bmnn)\n"
            "  --performance FILE  a performer's MIDI file for the render latency\n"
            "  --max-songs N       score only N test songs for the likelihoods (default: all)\n"
            "  --gen-songs N       songs for the generation tasks (default 120)\n"
            "  --gen-steps N       steps of each (default 1024)\n"
            "  --ppm-order N       highest PPM order tried (default 8)\n"
            "  --no-ppm            skip the baseline\n"
            "  --seed N            random seed for sampling (default 1)\n"
            "  --temperature X     sampling temperature of the generation tasks (default 1)\n"
            "  --top-p X           nucleus mass of the generation tasks (default 0.95)\n"
            "  --follow-chords X   harmony following under a chord or bass performer (default: built in)\n"
            "  --follow-melody X   harmony following under a melody (default: built in)\n"
            "  --valid             measure on the validation songs instead (for choosing settings)\n"
            "  --tracker           only the chord tracker, fitted on the training songs (quick; no model)\n"
            "  -h, --help          this help\n");
}

int cmd_eval(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "voices")) return eval_voices_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "together")) return together_eval_main(argc - 1, argv + 1);
    static const struct option opts[] = {
        {"corpus", required_argument, 0, 'c'},    {"model", required_argument, 0, 'm'},
        {"performance", required_argument, 0, 'p'}, {"max-songs", required_argument, 0, 'n'},
        {"gen-songs", required_argument, 0, 'g'}, {"gen-steps", required_argument, 0, 's'},
        {"ppm-order", required_argument, 0, 'o'}, {"no-ppm", no_argument, 0, 'P'},
        {"seed", required_argument, 0, 'S'},      {"help", no_argument, 0, 'h'},
        {"temperature", required_argument, 0, 't'}, {"top-p", required_argument, 0, 'T'},
        {"follow-chords", required_argument, 0, 'F'}, {"follow-melody", required_argument, 0, 'G'},
        {"valid", no_argument, 0, 'V'},           {"tracker", no_argument, 0, 'K'},
        {0, 0, 0, 0}};
    mus_eval_opts o;
    mus_eval_defaults(&o);
    o.out = stdout;
    double v;
    uint64_t u;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o.corpus = optarg; break;
        case 'm': o.model = optarg; break;
        case 'p': o.performance = optarg; break;
        case 'n': if (cli_number("eval", "--max-songs", optarg, 1, 1e7, &v)) return 2; o.max_songs = (int)v; break;
        case 'g': if (cli_number("eval", "--gen-songs", optarg, 1, 4096, &v)) return 2; o.gen_songs = (int)v; break;
        case 's': if (cli_number("eval", "--gen-steps", optarg, 64, 1e6, &v)) return 2; o.gen_steps = (int)v; break;
        case 'o': if (cli_number("eval", "--ppm-order", optarg, 1, 8, &v)) return 2; o.ppm_order = (int)v; break;
        case 'P': o.skip_ppm = 1; break;
        case 'S': if (cli_u64("eval", "--seed", optarg, &u)) return 2; o.seed = u; break;
        case 't': if (cli_number("eval", "--temperature", optarg, 0.05, 3, &v)) return 2; o.temperature = (float)v; break;
        case 'T': if (cli_number("eval", "--top-p", optarg, 0.05, 1, &v)) return 2; o.top_p = (float)v; break;
        case 'F': if (cli_number("eval", "--follow-chords", optarg, 0, 20, &v)) return 2; o.follow_chords = (float)v; break;
        case 'G': if (cli_number("eval", "--follow-melody", optarg, 0, 20, &v)) return 2; o.follow_melody = (float)v; break;
        case 'V': o.on_valid = 1; break;
        case 'K': o.tracker_only = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "bandmate eval: '%s' is not an option here; 'bandmate eval --help' lists them.\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bandmate eval: unexpected '%s'; the corpus goes after --corpus.\n", argv[optind]);
        return 2;
    }
    if (!o.corpus) {
        fprintf(stderr, "bandmate eval: say which corpus to evaluate on with --corpus DIR.\n");
        return 2;
    }
    char err[1024];
    if (mus_eval_run(&o, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate eval: %s.\n", err);
        return 1;
    }
    return 0;
}
