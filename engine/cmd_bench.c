/* cmd_bench.c: `bandmate bench WHAT`: benchmark tables for the engine and its libraries. */
#include "engine/cli.h"
#include "engine/bench.h"
#include "engine/together.h"
#include "nn/nn_bench.h"

#include <stdio.h>
#include <string.h>

struct bench {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct bench benches[] = {
    {"engine", bench_engine_main, "process callback cost live on JACK, offline render speed beside fluidsynth"},
    {"nn", nn_bench_main, "nn/: streaming LSTM step and training throughput, beside PyTorch"},
    {"synth", bench_synth_main, "neural voices: callback cost of 16 notes, render speed beside fluidsynth"},
    {"together", bench_together_main, "playing together: answer and reaction latency, key change, tempo drift (short)"},
    {"session", bench_session_main, "a long live session (10 min): voices, script, OSC, a performer; xruns, callback"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: bandmate bench WHAT [options]\n\nWHAT is one of:\n");
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        fprintf(f, "  %-8s %s\n", benches[i].name, benches[i].summary);
    fprintf(f, "  %-8s every benchmark above, one after another\n\n"
               "'bandmate bench WHAT --help' lists the options of one benchmark.\n", "all");
}

int cmd_bench(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    int n = (int)(sizeof benches / sizeof benches[0]);
    if (!strcmp(argv[1], "all")) {
        int rc = 0;
        for (int i = 0; i < n; i++) {
            char *sub[] = {(char *)benches[i].name, NULL};
            printf("\n== bench %s\n", benches[i].name);
            fflush(stdout);
            if (benches[i].fn(1, sub) != 0) rc = 1;
        }
        return rc;
    }
    for (int i = 0; i < n; i++)
        if (!strcmp(argv[1], benches[i].name)) return benches[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "bandmate bench: '%s' is not a benchmark; 'bandmate bench --help' lists them.\n",
            argv[1]);
    return 2;
}

int bench_together_main(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: bandmate bench together\n\nRuns 'bandmate eval together --quick' (see 'bandmate eval together --help').\n");
        return 0;
    }
    char *sub[] = {"together", "--quick", NULL};
    return together_eval_main(2, sub);
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
    return 0;
}
