/* cli_util.c: strict number parsing and shared help text for the subcommands. */
#include "engine/cli_util.h"
#include "engine/behaviour.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int cli_number(const char *cmd, const char *opt, const char *text, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v)) {
        fprintf(stderr, "bandmate %s: %s wants a number, not '%s'.\n", cmd, opt, text);
        return -1;
    }
    if (v < lo || v > hi) {
        fprintf(stderr, "bandmate %s: %s %s is outside %g..%g.\n", cmd, opt, text, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_u64(const char *cmd, const char *opt, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-') {
        fprintf(stderr, "bandmate %s: %s wants a whole number, not '%s'.\n", cmd, opt, text);
        return -1;
    }
    *out = v;
    return 0;
}

void cli_mode_help(char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "Modes (--mode, OSC /bm/mode, Lua bm.mode, MIDI CC 20; docs/modes.md):\n");
    for (int i = 0; bm_mode_names[i] && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "  %-18s %s\n", bm_mode_names[i], behaviour_mode_summary(bm_mode_names[i]));
}
