/* mus_voicing.c: voice leading for the comping part. */
#include "engine/musician/mus_voicing.h"
#include "engine/musician/mus_vocab.h"

#include <stdlib.h>
#include <string.h>

#define LOW_LIMIT 48
#define HIGH_LIMIT 84

void mus_voicing_reset(mus_voicing *v, int centre)
{
    memset(v, 0, sizeof *v);
    v->centre = centre;
}

/* Cost of moving from the last voicing: each new note to its nearest old note. */
static int movement(const mus_voicing *v, const uint8_t *n, int k)
{
    if (!v->n) return 0;
    int cost = 0;
    for (int i = 0; i < k; i++) {
        int best = 127;
        for (int j = 0; j < v->n; j++) {
            int d = abs((int)n[i] - (int)v->note[j]);
            best = d < best ? d : best;
        }
        cost += best;
    }
    return cost;
}

int mus_voice_chord(mus_voicing *v, int chord, int avoid_pc, uint8_t *out)
{
    uint16_t pcs = mus_chord_pcs(chord);
    int root = mus_chord_root(chord);
    if (!pcs || root < 0) return 0;
    int cnt = mus_popcount16(pcs);
    /* up to four tones: leave out what the bass plays, then the fifth */
    if (cnt >= 4 && avoid_pc >= 0 && (pcs >> avoid_pc & 1) && avoid_pc != (root + 4) % 12 &&
        avoid_pc != (root + 3) % 12) {
        pcs &= (uint16_t)~(1u << avoid_pc);
        cnt--;
    }
    int fifth = (root + 7) % 12;
    if (cnt > 4 && (pcs >> fifth & 1)) {
        pcs &= (uint16_t)~(1u << fifth);
        cnt--;
    }
    while (cnt > 4) { /* drop the root next, then the highest tensions */
        int drop = (pcs >> root & 1) ? root : 31 - __builtin_clz(pcs);
        pcs &= (uint16_t)~(1u << drop);
        cnt--;
    }
    int tones[12], nt = 0;
    for (int i = 0; i < 12; i++)
        if (pcs >> i & 1) tones[nt++] = i;
    /* candidates: every inversion, in every octave that keeps it in range; close position */
    uint8_t best[MUS_VOICES_MAX];
    int best_cost = 1 << 30, best_n = 0;
    for (int inv = 0; inv < nt; inv++)
        for (int base = LOW_LIMIT; base < HIGH_LIMIT; base += 12) {
            uint8_t cand[MUS_VOICES_MAX];
            int k = 0, prev = -1;
            for (int j = 0; j < nt && k < MUS_VOICES_MAX; j++) {
                int pc = tones[(inv + j) % nt];
                int note = base - base % 12 + pc;
                if (note < base) note += 12;
                while (note <= prev) note += 12;
                cand[k++] = (uint8_t)note;
                prev = note;
            }
            if (cand[0] < LOW_LIMIT || cand[k - 1] > HIGH_LIMIT) continue;
            if (nt == 1 && k < MUS_VOICES_MAX) { /* a single tone: doubled at the octave */
                if (cand[0] + 12 > HIGH_LIMIT) continue;
                cand[1] = (uint8_t)(cand[0] + 12);
                k = 2;
            }
            int mid = (cand[0] + cand[k - 1]) / 2;
            int cost = movement(v, cand, k) * 2 + abs(mid - v->centre);
            if (cost < best_cost) {
                best_cost = cost;
                best_n = k;
                memcpy(best, cand, (size_t)k);
            }
        }
    if (!best_n) return 0;
    memcpy(out, best, (size_t)best_n);
    memcpy(v->note, best, (size_t)best_n);
    v->n = best_n;
    return best_n;
}
