/* cmd_train.c: `bandmate train`: trains the musician on a folder of MIDI files. */
#include "engine/cli.h"
#include "engine/cli_util.h"
#include "engine/musician/mus_corpus.h"
#include "engine/musician/mus_train.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bandmate train --corpus DIR [--out MODEL.bmnn] [options]\n"
            "\n"
            "Trains the musician (the model that plays bass, drums, comping and lead with you) on a\n"
            "folder of Standard MIDI Files, e.g. the corpus 'make corpus' builds, or your own\n"
            "recordings. Parts are recognised by track name (Bass, Drum, Chord, Solo ...), then\n"
            "channel (drums on 10), then General MIDI program, then register; a chart file beside a\n"
            "song (SONG.chart, docs/corpus.md) gives its chords, style and split. What is skipped is\n"
            "reported with the reason. The best model on the validation songs is written to --out;\n"
            "a checkpoint is saved as training goes, and --resume continues from it.\n"
            "\n"
            "  --corpus DIR        folder of .mid files (searched recursively)\n"
            "  --out FILE          the model (default models/musician.bmnn)\n"
            "  --steps N           optimiser steps (default 20000)\n"
            "  --minutes M         instead, as many steps as fit M minutes (measured on the first steps)\n"
            "  --layers N          LSTM layers (default 2)\n"
            "  --hidden N          LSTM units per layer (default 256)\n"
            "  --batch B           sequences per batch (default 32)\n"
            "  --seq T             steps per sequence chunk (truncated BPTT, default 64)\n"
            "  --lr X              peak learning rate (default 0.002; warm-up, then cosine decay)\n"
            "  --valid-every N     validate (and keep the best model) every N steps (default 500)\n"
            "  --checkpoint FILE   checkpoint (default OUT.ckpt), saved every --valid-every steps\n"
            "  --resume            continue from the checkpoint when it exists\n"
            "  --log FILE          a TSV of the losses at each validation\n"
            "  --plot FILE.png     the loss curves, redrawn at each validation\n"
            "  --max-songs N       read only the first N songs (quick trials)\n"
            "  --threads N         threads for the training math (default 2)\n"
            "  --seed N            random seed (default 1)\n"
            "  --no-augment        no random keys, performer roles, chart or style dropping (the band\n"
            "                      alone, songs as written; for learning a few songs by heart)\n"
            "  --chords-only       fit only the chord tracker (docs/musician.md) on the corpus's\n"
            "                      training songs and write it into the trained model --out names\n"
            "  --report-skips      list every skipped file and track (default: counts only)\n"
            "  --quiet             print nothing but errors\n"
            "  -h, --help          this help\n");
}

int cmd_train(int argc, char **argv)
{
    static const struct option opts[] = {
        {"corpus", required_argument, 0, 'c'},     {"out", required_argument, 0, 'o'},
        {"steps", required_argument, 0, 's'},      {"minutes", required_argument, 0, 'M'},
        {"layers", required_argument, 0, 'L'},     {"hidden", required_argument, 0, 'H'},
        {"batch", required_argument, 0, 'B'},      {"seq", required_argument, 0, 'T'},
        {"lr", required_argument, 0, 'l'},         {"valid-every", required_argument, 0, 'v'},
        {"checkpoint", required_argument, 0, 'k'}, {"resume", no_argument, 0, 'r'},
        {"log", required_argument, 0, 'g'},        {"plot", required_argument, 0, 'p'},
        {"max-songs", required_argument, 0, 'm'},  {"threads", required_argument, 0, 'j'},
        {"seed", required_argument, 0, 'S'},       {"report-skips", no_argument, 0, 'R'},
        {"quiet", no_argument, 0, 'q'},            {"help", no_argument, 0, 'h'},
        {"no-augment", no_argument, 0, 'A'},       {"chords-only", no_argument, 0, 'C'},
        {0, 0, 0, 0}};
    mus_train_opts o;
    mus_train_defaults(&o);
    o.report = stdout;
    int report_skips = 0;
    double v;
    uint64_t u;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o.corpus = optarg; break;
        case 'o': o.out = optarg; break;
        case 's': if (cli_number("train", "--steps", optarg, 1, 1e8, &v)) return 2; o.steps = (long)v; break;
        case 'M': if (cli_number("train", "--minutes", optarg, 0.1, 10000, &v)) return 2; o.minutes = v; break;
        case 'L': if (cli_number("train", "--layers", optarg, 1, 4, &v)) return 2; o.layers = (int)v; break;
        case 'H': if (cli_number("train", "--hidden", optarg, 8, 1024, &v)) return 2; o.hidden = (int)v; break;
        case 'B': if (cli_number("train", "--batch", optarg, 1, 512, &v)) return 2; o.B = (int)v; break;
        case 'T': if (cli_number("train", "--seq", optarg, 2, 1024, &v)) return 2; o.T = (int)v; break;
        case 'l': if (cli_number("train", "--lr", optarg, 1e-6, 1, &v)) return 2; o.lr = (float)v; o.min_lr = o.lr / 20; break;
        case 'v': if (cli_number("train", "--valid-every", optarg, 1, 1e7, &v)) return 2; o.valid_every = o.ckpt_every = (int)v; break;
        case 'k': o.checkpoint = optarg; break;
        case 'r': o.resume = 1; break;
        case 'g': o.log_tsv = optarg; break;
        case 'p': o.plot_png = optarg; break;
        case 'm': if (cli_number("train", "--max-songs", optarg, 1, 1e7, &v)) return 2; o.max_songs = (int)v; break;
        case 'j': if (cli_number("train", "--threads", optarg, 1, 64, &v)) return 2; o.threads = (int)v; break;
        case 'S': if (cli_u64("train", "--seed", optarg, &u)) return 2; o.seed = u; break;
        case 'R': report_skips = 1; break;
        case 'A': o.plain = 1; break;
        case 'C': o.chords_only = 1; break;
        case 'q': o.report = NULL; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "bandmate train: '%s' is not an option here; 'bandmate train --help' lists them.\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bandmate train: unexpected '%s'; the corpus goes after --corpus.\n", argv[optind]);
        return 2;
    }
    if (!o.corpus) {
        fprintf(stderr, "bandmate train: say which folder of MIDI files to learn from with --corpus DIR.\n");
        return 2;
    }
    if (report_skips && o.report) { /* the detailed list, before training */
        mus_corpus cp;
        mus_corpus_opts co = {.max_songs = o.max_songs};
        char e[1024];
        if (mus_corpus_load(o.corpus, &co, &cp, o.report, e, sizeof e) == 0) mus_corpus_free(&cp);
    }
    char err[1024];
    if (mus_train_run(&o, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate train: %s.\n", err);
        return 1;
    }
    return 0;
}
