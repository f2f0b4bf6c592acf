/* cli_util.h: strict parsing of command-line values, with one clear sentence on error. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Parses a number in [lo, hi] for option opt of command cmd; on error prints one sentence and
 * returns -1. */
int cli_number(const char *cmd, const char *opt, const char *text, double lo, double hi, double *out);

/* Same for an unsigned 64-bit integer. */
int cli_u64(const char *cmd, const char *opt, const char *text, uint64_t *out);

/* The modes and what each does, a paragraph for --help (always NUL-terminated). */
void cli_mode_help(char *out, size_t cap);
