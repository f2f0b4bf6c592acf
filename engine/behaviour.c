/* behaviour.c: the behaviour registry and the silent band. */
#include "engine/behaviour.h"

#include <stdlib.h>
#include <string.h>

const char *const bm_mode_names[] = {"echo", "silent", NULL};

static void silent_reset(bm_behaviour *b) { (void)b; }

static int silent_step(bm_behaviour *b, const bm_step_ctx *ctx, const bm_event *human, int nhuman,
                       bm_event *out, int max)
{
    (void)b; (void)ctx; (void)human; (void)nhuman; (void)out; (void)max;
    return 0;
}

static void silent_destroy(bm_behaviour *b) { free(b); }

static const bm_behaviour_ops silent_ops = {"silent", silent_reset, silent_step, silent_destroy};

bm_behaviour *behaviour_silent_create(void)
{
    bm_behaviour *b = calloc(1, sizeof *b);
    if (b) b->ops = &silent_ops;
    return b;
}

bm_behaviour *behaviour_create(const char *mode)
{
    if (!strcmp(mode, "echo")) return behaviour_echo_create();
    if (!strcmp(mode, "silent")) return behaviour_silent_create();
    return NULL;
}
