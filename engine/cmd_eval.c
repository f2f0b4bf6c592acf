/* cmd_eval.c: `bandmate eval WHAT`: evaluations of trained models, each printing its table. */
#include "engine/cli.h"
#include "engine/voice/voice_eval_cmd.h"

#include <stdio.h>
#include <string.h>

struct evaluation {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct evaluation evals[] = {
    {"voices", eval_voices_main, "the timbre decoder on held-out notes, beside the average-spectrum baseline"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: bandmate eval WHAT [options]\n\nWHAT is one of:\n");
    for (size_t i = 0; i < sizeof evals / sizeof evals[0]; i++)
        fprintf(f, "  %-8s %s\n", evals[i].name, evals[i].summary);
    fprintf(f, "\n'bandmate eval WHAT --help' lists the options of one evaluation.\n");
}

int cmd_eval(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof evals / sizeof evals[0]; i++)
        if (!strcmp(argv[1], evals[i].name)) return evals[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "bandmate eval: '%s' is not an evaluation; 'bandmate eval --help' lists them.\n", argv[1]);
    return 2;
}
