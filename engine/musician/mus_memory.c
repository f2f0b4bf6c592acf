/* mus_memory.c: a Continuator-style variable-order memory of the performer's pitches. */
#include "engine/musician/mus_memory.h"

#include <string.h>

void mus_memory_reset(mus_memory *m) { memset(m, 0, sizeof *m); }

void mus_memory_add(mus_memory *m, int pitch)
{
    if (pitch < 0 || pitch > 127) return;
    m->note[m->count % MUS_MEMORY_CAP] = (uint8_t)pitch;
    m->count++;
}

/* the i-th note of the history, oldest first */
static int at(const mus_memory *m, int len, int i)
{
    int first = m->count - len;
    return m->note[(first + i) % MUS_MEMORY_CAP];
}

int mus_memory_predict(const mus_memory *m, const uint8_t *ctx, int n, float *dist)
{
    memset(dist, 0, 128 * sizeof *dist);
    int len = m->count < MUS_MEMORY_CAP ? m->count : MUS_MEMORY_CAP;
    if (len == 0) return -1;
    int maxk = n < MUS_MEMORY_ORDER ? n : MUS_MEMORY_ORDER;
    for (int k = maxk; k >= 1; k--) {
        float total = 0;
        for (int j = k; j < len; j++) {
            int ok = 1;
            for (int i = 0; i < k && ok; i++) ok = at(m, len, j - k + i) == ctx[n - k + i];
            if (ok) {
                dist[at(m, len, j)] += 1.0f;
                total += 1.0f;
            }
        }
        if (total > 0) {
            for (int p = 0; p < 128; p++) dist[p] /= total;
            return k;
        }
    }
    for (int j = 0; j < len; j++) dist[at(m, len, j)] += 1.0f;
    for (int p = 0; p < 128; p++) dist[p] /= (float)len;
    return 0;
}
