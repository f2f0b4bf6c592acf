/* listen_state.c: defaults and names for the listening configuration and snapshot. */
#include "engine/listen/listen_state.h"

#include <stdio.h>
#include <string.h>

void listen_config_defaults(bm_listen_config *c)
{
    memset(c, 0, sizeof *c);
    c->audio = BM_LISTEN_OFF;
    c->input = 0;
    c->silence_db = -50.0f;
    c->min_confidence = 0.8f;
    c->onset_threshold = 0.3f;
    c->hysteresis = 0.35f;
    c->lowest_note = 40;
    c->highest_note = 100;
    c->follow = 1.0;
    c->phrase_gap = 1.0;
    c->phrase_bars = 1;
    c->mix_input = 0;
    c->input_gain = 1.0f;
}

void listen_state_clear(bm_listen_state *s)
{
    memset(s, 0, sizeof *s);
    s->key_root = -1;
    s->chord_root = -1;
    s->bass = -1;
    s->audio_note = -1;
    s->last_note = -1e9;
}

static const char *const quality_names[BM_CHORD_COUNT] = {"", "maj", "min", "7", "maj7", "m7",
                                                          "dim", "m7b5", "aug", "sus4", "sus2"};
/* the suffix after the root in a chord symbol */
static const char *const quality_suffix[BM_CHORD_COUNT] = {"", "", "m", "7", "maj7", "m7",
                                                           "dim", "m7b5", "aug", "sus4", "sus2"};
static const char *const pc_names[12] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};

const char *listen_chord_quality_name(int q)
{
    return q >= 0 && q < BM_CHORD_COUNT ? quality_names[q] : "";
}

int listen_chord_quality_from_name(const char *name)
{
    for (int q = 1; q < BM_CHORD_COUNT; q++)
        if (!strcmp(name, quality_names[q])) return q;
    return -1;
}

const char *listen_chord_name(int root, int quality, char *buf, int cap)
{
    if (root < 0 || root > 11 || quality <= BM_CHORD_NONE || quality >= BM_CHORD_COUNT)
        snprintf(buf, (size_t)cap, "-");
    else
        snprintf(buf, (size_t)cap, "%s%s", pc_names[root], quality_suffix[quality]);
    return buf;
}

const char *listen_key_name(int root, int minor, char *buf, int cap)
{
    if (root < 0 || root > 11) snprintf(buf, (size_t)cap, "unknown");
    else snprintf(buf, (size_t)cap, "%s %s", pc_names[root], minor ? "minor" : "major");
    return buf;
}

int listen_audio_from_name(const char *name)
{
    if (!strcmp(name, "off")) return BM_LISTEN_OFF;
    if (!strcmp(name, "mono")) return BM_LISTEN_MONO;
    if (!strcmp(name, "poly")) return BM_LISTEN_POLY;
    return -1;
}
