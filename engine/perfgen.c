/* perfgen.c: synthetic performances: a random walk on a scale over a I-vi-IV-V progression. */
#include "engine/perfgen.h"
#include "engine/smf.h"

#include <math.h>
#include <stdio.h>

static uint32_t next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

int perfgen_write(const bm_perfgen *g, const char *path, int *notes, char *err, size_t errlen)
{
    static const int scale[7] = {0, 2, 4, 5, 7, 9, 11};
    static const int prog[4][3] = {{0, 4, 7}, {9, 12, 16}, {5, 9, 12}, {7, 11, 14}};
    smf *s = smf_new(480);
    if (!s || smf_add_track(s, "human") != 0) {
        snprintf(err, errlen, "out of memory");
        smf_free(s);
        return -1;
    }
    smf_add_tempo(s, 0, 0, (uint32_t)llround(60e6 / g->bpm));
    uint64_t rng = g->seed * 2654435761u + 7;
    int beats = (int)(g->seconds * g->bpm / 60.0);
    int per = g->notes_per_beat < 1 ? 1 : g->notes_per_beat > 8 ? 8 : g->notes_per_beat;
    int degree = 7, count = 0;
    for (int b = 0; b < beats; b++) {
        const int *chord = prog[(b / 4) % 4];
        if (g->chords) {
            for (int k = 0; k < 3; k++) {
                uint8_t on[3] = {0x90, (uint8_t)(48 + chord[k]), (uint8_t)(60 + next(&rng) % 30)};
                uint8_t off[3] = {0x80, on[1], 0};
                smf_add_midi(s, 0, (uint64_t)b * 480, on, 3);
                smf_add_midi(s, 0, (uint64_t)b * 480 + 400, off, 3);
                count++;
            }
        }
        for (int i = 0; i < per; i++) {
            if (next(&rng) % 8 == 0) continue; /* a rest now and then */
            degree += (int)(next(&rng) % 5) - 2;
            if (degree < 0) degree = 2;
            if (degree > 14) degree = 12;
            int pitch = 60 + 12 * (degree / 7) + scale[degree % 7];
            uint64_t t = (uint64_t)b * 480 + (uint64_t)i * 480 / (uint64_t)per + next(&rng) % 12;
            uint64_t len = 480 / (uint64_t)per * 9 / 10;
            uint8_t on[3] = {0x90, (uint8_t)pitch, (uint8_t)(70 + next(&rng) % 50)}, off[3] = {0x80, (uint8_t)pitch, 0};
            smf_add_midi(s, 0, t, on, 3);
            smf_add_midi(s, 0, t + len, off, 3);
            count++;
        }
    }
    int rc = smf_write_file(s, path, err, errlen);
    smf_free(s);
    if (notes) *notes = count;
    return rc;
}
