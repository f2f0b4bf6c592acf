/* cmd_stubs.c: placeholders while the engine is being written (removed when each lands). */
#include "engine/cli.h"
#include <stdio.h>
int cmd_run(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not yet\n"); return 1; }
int cmd_devices(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not yet\n"); return 1; }
