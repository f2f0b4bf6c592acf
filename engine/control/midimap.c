/* midimap.c: controller-to-parameter mappings and MIDI learn. */
#include "engine/control/midimap.h"

#include <stdio.h>
#include <string.h>

void midimap_init(bm_midimap *mm) { memset(mm, 0, sizeof *mm); }

static void remove_at(bm_midimap *mm, int i)
{
    mm->m[i] = mm->m[--mm->n];
}

int midimap_set(bm_midimap *mm, const char *param, int channel, int cc, char *err, size_t errlen)
{
    if (!params_valid_id(param)) {
        snprintf(err, errlen, "'%.40s' is not a parameter id", param);
        return -1;
    }
    if (cc < 0 || cc > 127) {
        snprintf(err, errlen, "controller %d is not 0..127", cc);
        return -1;
    }
    if (channel < -1 || channel > 15) {
        snprintf(err, errlen, "channel %d is not 1..16 (or 0 for any)", channel + 1);
        return -1;
    }
    for (int i = mm->n - 1; i >= 0; i--)
        if (!strcmp(mm->m[i].param, param) ||
            (mm->m[i].cc == cc && (mm->m[i].channel == channel || mm->m[i].channel < 0 || channel < 0)))
            remove_at(mm, i);
    if (mm->n == MIDIMAP_MAX) {
        snprintf(err, errlen, "no room for more than %d MIDI mappings", MIDIMAP_MAX);
        return -1;
    }
    midimap_entry *e = &mm->m[mm->n++];
    snprintf(e->param, sizeof e->param, "%s", param);
    e->channel = channel;
    e->cc = cc;
    return 0;
}

int midimap_remove(bm_midimap *mm, const char *param)
{
    for (int i = 0; i < mm->n; i++)
        if (!strcmp(mm->m[i].param, param)) {
            remove_at(mm, i);
            return 0;
        }
    return -1;
}

const char *midimap_lookup(const bm_midimap *mm, int channel, int cc)
{
    for (int i = 0; i < mm->n; i++)
        if (mm->m[i].cc == cc && (mm->m[i].channel < 0 || mm->m[i].channel == channel)) return mm->m[i].param;
    return NULL;
}

void midimap_learn(bm_midimap *mm, const char *param) { snprintf(mm->learning, sizeof mm->learning, "%s", param); }

int midimap_take_learn(bm_midimap *mm, int channel, int cc, char *out, size_t cap)
{
    if (!mm->learning[0]) return 0;
    char param[BM_PARAM_ID_MAX], err[128];
    snprintf(param, sizeof param, "%s", mm->learning);
    mm->learning[0] = 0;
    if (midimap_set(mm, param, channel, cc, err, sizeof err) != 0) return 0;
    snprintf(out, cap, "%s", param);
    return 1;
}
