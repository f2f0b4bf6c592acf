/* cli.h: bandmate's subcommands, each a main-like function with its own --help. */
#pragma once

int cmd_run(int argc, char **argv);     /* live on a JACK server */
int cmd_render(int argc, char **argv);  /* offline, faster than real time */
int cmd_devices(int argc, char **argv); /* JACK ports and PortMidi devices */
int cmd_bench(int argc, char **argv);   /* benchmarks */
int cmd_train(int argc, char **argv);   /* trains the musician on a folder of MIDI files */
int cmd_eval(int argc, char **argv);    /* evaluates the musician on held-out songs (eval voices: the voices) */
int cmd_voice(int argc, char **argv);   /* timbre voices: analysis and the voice data set */

/* True when argv[1..] holds -h or --help (so every subcommand answers it the same way). */
int cli_wants_help(int argc, char **argv);
