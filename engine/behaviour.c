/* behaviour.c: the behaviour registry and the silent band. */
#include "engine/behaviour.h"
#include "engine/musician/mus_accompany.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const bm_mode_names[] = {"echo", "silent", "accompany", "call-and-response", "duet", NULL};

static _Thread_local char create_error[1024];
static char model_path[1024];

const char *behaviour_error(void) { return create_error; }

const char *behaviour_mode_summary(const char *mode)
{
    static const char *const names[] = {"echo", "silent", "accompany", "call-and-response", "duet"};
    static const char *const lines[] = {
        "answers each note with a third above and an echo (no model)",
        "the band listens and stays silent",
        "bass, drums and comping follow the performer (no band lead over theirs)",
        "accompany, and the band's lead answers each of the performer's phrases",
        "accompany, and the band's lead plays a counter-line beside the performer",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(names[i], mode)) return lines[i];
    return "";
}

int behaviour_mode_uses_model(const char *mode)
{
    return !strcmp(mode, "accompany") || !strcmp(mode, "call-and-response") || !strcmp(mode, "duet");
}

int behaviour_prime(bm_behaviour *b, const bm_step_ctx *ctx, const bm_event *phrase, int n)
{
    if (!b || strcmp(b->ops->name, "accompany")) return -1;
    return behaviour_accompany_prime(b, ctx, phrase, n);
}

int behaviour_set_mode(bm_behaviour *b, const char *mode)
{
    if (!b || !b->ops->set_mode) return -1;
    return b->ops->set_mode(b, mode);
}

void behaviour_set_model_path(const char *path) { snprintf(model_path, sizeof model_path, "%s", path ? path : ""); }

const char *behaviour_model_path(void)
{
    static _Thread_local char found[1024];
    if (model_path[0]) return model_path;
    mus_model_default_path(found, sizeof found);
    return found;
}

static void silent_reset(bm_behaviour *b) { (void)b; }

static int silent_step(bm_behaviour *b, const bm_step_ctx *ctx, const bm_event *human, int nhuman,
                       bm_event *out, int max)
{
    (void)b; (void)ctx; (void)human; (void)nhuman; (void)out; (void)max;
    return 0;
}

static void silent_destroy(bm_behaviour *b) { free(b); }

static const bm_behaviour_ops silent_ops = {"silent", silent_reset, silent_step, silent_destroy, NULL, NULL};

bm_behaviour *behaviour_silent_create(void)
{
    bm_behaviour *b = calloc(1, sizeof *b);
    if (b) b->ops = &silent_ops;
    return b;
}

bm_behaviour *behaviour_create(const char *mode)
{
    create_error[0] = 0;
    if (behaviour_mode_uses_model(mode)) {
        bm_behaviour *b = behaviour_accompany_create(behaviour_model_path(), create_error, sizeof create_error);
        if (b && behaviour_set_mode(b, mode) != 0) { /* cannot happen: every such mode is the musician's */
            b->ops->destroy(b);
            snprintf(create_error, sizeof create_error, "the musician cannot play mode '%s'", mode);
            return NULL;
        }
        return b;
    }
    if (!strcmp(mode, "echo")) return behaviour_echo_create();
    if (!strcmp(mode, "silent")) return behaviour_silent_create();
    snprintf(create_error, sizeof create_error, "'%s' is not a mode bandmate knows", mode);
    return NULL;
}

int bm_band_chart_at(const bm_band_chart *c, double beat, int *root, uint16_t *pcs)
{
    if (!c || c->n <= 0 || !(c->length > 0)) return -1;
    double pos = fmod(beat - c->start, c->length);
    if (pos < 0) pos += c->length;
    int lo = 0, hi = c->n - 1, at = 0;
    while (lo <= hi) { /* the last chord starting at or before pos */
        int mid = (lo + hi) / 2;
        if (c->at[mid] <= pos + 1e-9) {
            at = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    *root = c->root[at];
    *pcs = c->pcs[at];
    return 0;
}
