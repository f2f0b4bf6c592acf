/* main.c: the bandmate binary: dispatches to a subcommand. */
#include "engine/cli.h"
#include "engine/version.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run, "play live on a JACK server: bandmate run [PATCH] [options]"},
    {"render", cmd_render, "play a human MIDI file through bandmate offline, to MIDI and WAV"},
    {"devices", cmd_devices, "list JACK ports and PortMidi devices"},
    {"bench", cmd_bench, "run benchmarks (engine, nn, ...) and print tables"},
    {"train", cmd_train, "train the musician (bass, drums, comping, lead) on a folder of MIDI files"},
    {"eval", cmd_eval, "evaluate the musician (or, with 'voices', the timbre voices) against baselines"},
    {"voice", cmd_voice, "timbre voices: list, render, train from a recording, the data set"},
};

static void usage(FILE *f)
{
    fprintf(f, "bandmate %s: a live AI bandmate for JACK\n\nusage: bandmate COMMAND [options]\n\n",
            BM_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'bandmate COMMAND --help' explains a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("bandmate %s\n", BM_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "bandmate: '%s' is not a command; 'bandmate --help' lists them.\n", argv[1]);
    return 2;
}
