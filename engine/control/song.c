/* song.c: keys, scales, chord symbols and the chord chart. */
#include "engine/control/song.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const bm_key_names[] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B", NULL};

/* The order is the musician's (BM_CTL_SCALE in engine/musician.h is an index into this list). */
const char *const bm_scale_names[] = {"major", "minor", "dorian", "mixolydian", "phrygian", "lydian",
                                      "locrian", "harmonic_minor", "melodic_minor", "major_pentatonic",
                                      "minor_pentatonic", "blues", "chromatic", NULL};

static const int scale_steps[][13] = {
    {0, 2, 4, 5, 7, 9, 11, -1},      {0, 2, 3, 5, 7, 8, 10, -1},     {0, 2, 3, 5, 7, 9, 10, -1},
    {0, 2, 4, 5, 7, 9, 10, -1},      {0, 1, 3, 5, 7, 8, 10, -1},     {0, 2, 4, 6, 7, 9, 11, -1},
    {0, 1, 3, 5, 6, 8, 10, -1},      {0, 2, 3, 5, 7, 8, 11, -1},     {0, 2, 3, 5, 7, 9, 11, -1},
    {0, 2, 4, 7, 9, -1},             {0, 3, 5, 7, 10, -1},           {0, 3, 5, 6, 7, 10, -1},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -1},
};

int song_scale_steps(int scale, int *steps)
{
    if (scale < 0 || scale >= (int)(sizeof scale_steps / sizeof scale_steps[0])) scale = 0;
    int n = 0;
    while (n < 12 && scale_steps[scale][n] >= 0) {
        steps[n] = scale_steps[scale][n];
        n++;
    }
    return n;
}

int song_scale_note(int key, int scale, int degree, int octave)
{
    int steps[12];
    int n = song_scale_steps(scale, steps);
    int d = degree - 1;
    int oct = d >= 0 ? d / n : -((-d + n - 1) / n);
    int idx = d - oct * n;
    return (octave + 1) * 12 + key + oct * 12 + steps[idx];
}

int song_pitch_class(const char *name, int *used)
{
    static const int base[7] = {9, 11, 0, 2, 4, 5, 7}; /* A B C D E F G */
    char c = name[0];
    if (c >= 'a' && c <= 'g') c = (char)(c - 'a' + 'A');
    if (c < 'A' || c > 'G') return -1;
    int pc = base[c - 'A'], n = 1;
    while (name[n] == '#' || name[n] == 'b') {
        pc += name[n] == '#' ? 1 : -1;
        n++;
        if (n > 3) return -1;
    }
    if (used) *used = n;
    return (pc % 12 + 12) % 12;
}

struct quality {
    const char *name;
    int tones[BM_CHORD_MAX_TONES];
    int n;
};

/* Longest names first where one is a prefix of another. */
static const struct quality qualities[] = {
    {"maj9", {0, 4, 7, 11, 14}, 5}, {"maj7", {0, 4, 7, 11}, 4}, {"M7", {0, 4, 7, 11}, 4},
    {"m7b5", {0, 3, 6, 10}, 4},     {"mmaj7", {0, 3, 7, 11}, 4}, {"m9", {0, 3, 7, 10, 14}, 5},
    {"m11", {0, 3, 7, 10, 14, 17}, 6}, {"m7", {0, 3, 7, 10}, 4}, {"m6", {0, 3, 7, 9}, 4},
    {"min", {0, 3, 7}, 3},          {"dim7", {0, 3, 6, 9}, 4}, {"dim", {0, 3, 6}, 3},
    {"aug", {0, 4, 8}, 3},          {"sus2", {0, 2, 7}, 3},    {"sus4", {0, 5, 7}, 3},
    {"7sus4", {0, 5, 7, 10}, 4},    {"add9", {0, 4, 7, 14}, 4}, {"13", {0, 4, 7, 10, 14, 21}, 6},
    {"11", {0, 4, 7, 10, 14, 17}, 6}, {"9", {0, 4, 7, 10, 14}, 5}, {"7", {0, 4, 7, 10}, 4},
    {"6", {0, 4, 7, 9}, 4},         {"5", {0, 7}, 2},           {"m", {0, 3, 7}, 3},
    {"+", {0, 4, 8}, 3},            {"o7", {0, 3, 6, 9}, 4},    {"o", {0, 3, 6}, 3},
    {"", {0, 4, 7}, 3},
};

int song_parse_chord(const char *symbol, bm_chord *c, char *err, size_t errlen)
{
    size_t len = strlen(symbol);
    if (len == 0 || len >= sizeof c->symbol) {
        snprintf(err, errlen, "'%.20s' is not a chord symbol (like C, Dm7, G7, Bbmaj7, F#m7b5, C/E)", symbol);
        return -1;
    }
    int used = 0;
    int root = song_pitch_class(symbol, &used);
    if (root < 0) {
        snprintf(err, errlen, "'%s' does not start with a note name (A to G)", symbol);
        return -1;
    }
    const char *rest = symbol + used;
    const char *slash = strchr(rest, '/');
    char qual[16];
    size_t qlen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (qlen >= sizeof qual) qlen = sizeof qual - 1;
    memcpy(qual, rest, qlen);
    qual[qlen] = 0;
    const struct quality *q = NULL;
    for (size_t i = 0; i < sizeof qualities / sizeof qualities[0]; i++)
        if (!strcmp(qual, qualities[i].name)) {
            q = &qualities[i];
            break;
        }
    if (!q) {
        snprintf(err, errlen, "'%s' is not a chord bandmate knows (qualities: m, 7, m7, maj7, 6, m6, 9, m9, dim, dim7, m7b5, aug, sus2, sus4, 7sus4, add9, 5)",
                 symbol);
        return -1;
    }
    int bass = root;
    if (slash) {
        int bu = 0;
        bass = song_pitch_class(slash + 1, &bu);
        if (bass < 0 || slash[1 + bu] != 0) {
            snprintf(err, errlen, "'%s' has no note name after its slash", symbol);
            return -1;
        }
    }
    memset(c->symbol, 0, sizeof c->symbol);
    memcpy(c->symbol, symbol, len);
    c->root = root;
    c->bass = bass;
    c->ntones = q->n;
    memcpy(c->tones, q->tones, sizeof c->tones);
    return 0;
}

void song_clear(bm_song *s)
{
    s->nchords = 0;
    s->chart_beats = 0;
    s->chart_start = 0;
    s->nprime = 0;
    s->prime_part[0] = 0;
}

const bm_chord *song_chord_at(const bm_song *s, double beat)
{
    if (s->nchords == 0 || !(s->chart_beats > 0)) return NULL;
    double pos = fmod(beat - s->chart_start, s->chart_beats);
    if (pos < 0) pos += s->chart_beats;
    double at = 0;
    for (int i = 0; i < s->nchords; i++) {
        at += s->chart[i].beats;
        if (pos < at - 1e-9) return &s->chart[i];
    }
    return &s->chart[s->nchords - 1];
}
