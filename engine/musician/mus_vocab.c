/* mus_vocab.c: token vocabularies, the drum kit map and the chord vocabulary with its fitting table. */
#include "engine/musician/mus_vocab.h"

#include <pthread.h>
#include <string.h>

mus_frame mus_frame_rest(void)
{
    mus_frame f;
    memset(&f, 0, sizeof f);
    f.bass = MUS_TOK_REST;
    f.lead = MUS_TOK_REST;
    f.comp = MUS_COMP_REST;
    f.chord = MUS_CHORD_NONE;
    return f;
}

int mus_mono_token(int pitch, int low)
{
    while (pitch < low) pitch += 12;
    while (pitch >= low + MUS_MONO_RANGE) pitch -= 12;
    return 2 + pitch - low;
}

int mus_mono_pitch(int token, int low) { return token >= 2 && token < MUS_MONO_VOCAB ? low + token - 2 : -1; }

/* General MIDI drum notes 27..87 -> kit piece (-1: not played by the kit) */
static const int8_t gm_piece[128] = {
    [35] = 0, [36] = 0,                                   /* kick */
    [38] = 1, [40] = 1,                                   /* snare */
    [37] = 2,                                             /* side stick */
    [39] = 3,                                             /* clap */
    [42] = 4,                                             /* closed hi-hat */
    [44] = 5,                                             /* pedal hi-hat */
    [46] = 6,                                             /* open hi-hat */
    [41] = 7, [43] = 7, [45] = 7,                         /* low toms */
    [47] = 8, [48] = 8, [50] = 8,                         /* high toms */
    [49] = 9, [52] = 9, [55] = 9, [57] = 9,               /* crash, china, splash */
    [51] = 10, [59] = 10,                                 /* ride */
    [53] = 11,                                            /* ride bell */
    [54] = 12, [69] = 12, [70] = 12, [82] = 12,           /* tambourine, cabasa, maracas, shaker */
    [56] = 13, [58] = 13, [67] = 13, [68] = 13, [71] = 13, [72] = 13, [73] = 13, [74] = 13,
    [75] = 13, [76] = 13, [77] = 13, [78] = 13, [79] = 13, [80] = 13, [81] = 13, /* bells, clicks */
    [60] = 14, [62] = 14, [63] = 14, [65] = 14,           /* high bongo, conga, timbale */
    [61] = 15, [64] = 15, [66] = 15,                      /* low bongo, conga, timbale */
};
static const uint8_t piece_note[MUS_NPIECES] = {36, 38, 37, 39, 42, 44, 46, 45,
                                                48, 49, 51, 53, 70, 56, 63, 64};

int mus_drum_piece(int gm_note)
{
    if (gm_note < 0 || gm_note > 127) return -1;
    if (gm_note >= 27 && gm_note <= 34) return 13; /* sticks, clicks, slaps */
    if (gm_note >= 83 && gm_note <= 87) return 13;
    if (gm_note == 0 || gm_note < 35 || gm_note > 82) return -1;
    int p = gm_piece[gm_note];
    return p == 0 && gm_note != 35 && gm_note != 36 ? -1 : p;
}

int mus_drum_note(int piece) { return piece >= 0 && piece < MUS_NPIECES ? piece_note[piece] : 36; }

int mus_vel_class(int v) { return v < 64 ? 0 : v < 100 ? 1 : 2; }

int mus_class_velocity(int c) { return c <= 0 ? 50 : c == 1 ? 82 : 110; }

/* Chord qualities as pitch-class sets relative to the root (bit k: k semitones above). */
#define B(k) (1u << (k))
static const uint16_t quality_pcs[MUS_NQUALITY] = {
    B(0) | B(4) | B(7),                /* M */
    B(0) | B(3) | B(7),                /* m */
    B(0) | B(4) | B(7) | B(10),        /* 7 */
    B(0) | B(4) | B(7) | B(11),        /* M7 */
    B(0) | B(3) | B(7) | B(10),        /* m7 */
    B(0) | B(3) | B(6) | B(10),        /* m7b5 */
    B(0) | B(3) | B(6) | B(9),         /* dim7 */
    B(0) | B(3) | B(6),                /* dim */
    B(0) | B(4) | B(8),                /* aug */
    B(0) | B(5) | B(7),                /* sus4 */
    B(0) | B(5) | B(7) | B(10),        /* 7sus4 */
    B(0) | B(4) | B(7) | B(9),         /* 6 */
    B(0) | B(3) | B(7) | B(9),         /* m6 */
    B(0) | B(2) | B(4) | B(7) | B(10), /* 9 */
    B(0) | B(2) | B(4) | B(7),         /* add9 */
    B(0) | B(2) | B(3) | B(7) | B(10), /* m9 */
    B(0) | B(1) | B(4) | B(7) | B(10), /* 7b9 */
    B(0) | B(3) | B(7) | B(11),        /* mM7 */
    B(0) | B(7),                       /* 5 */
    B(0),                              /* 1 (a single note) */
    B(0) | B(2) | B(7),                /* sus2 */
    B(0) | B(2) | B(4) | B(7) | B(11), /* M9 */
};
#undef B
static const char *const quality_names[MUS_NQUALITY] = {
    "M", "m", "7", "M7", "m7", "m7b5", "dim7", "dim", "aug", "sus4", "7sus4",
    "6", "m6", "9", "add9", "m9", "7b9", "mM7", "5", "1", "sus2", "M9"};

const char *mus_quality_name(int q) { return q >= 0 && q < MUS_NQUALITY ? quality_names[q] : "?"; }

int mus_popcount16(uint16_t x) { return __builtin_popcount(x); }

uint16_t mus_pcs_transpose(uint16_t pcs, int k)
{
    k = ((k % 12) + 12) % 12;
    uint32_t x = (uint32_t)pcs & 0xfff;
    return (uint16_t)(((x << k) | (x >> (12 - k))) & 0xfff);
}

uint16_t mus_chord_pcs(int chord)
{
    if (chord < 0 || chord >= MUS_NCHORDS) return 0;
    return mus_pcs_transpose(quality_pcs[chord % MUS_NQUALITY], chord / MUS_NQUALITY);
}

int mus_chord_root(int chord) { return chord >= 0 && chord < MUS_NCHORDS ? chord / MUS_NQUALITY : -1; }

/* best chord per pitch-class set, for each lowest pitch class (12) and "unknown" (index 12) */
static uint16_t fit_table[4096][13];
static pthread_once_t vocab_once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    for (int set = 0; set < 4096; set++)
        for (int bass = 0; bass <= 12; bass++) {
            if (!set) {
                fit_table[set][bass] = MUS_CHORD_NONE;
                continue;
            }
            int best = 0;
            float best_score = -1e9f;
            for (int c = 0; c < MUS_NCHORDS; c++) {
                uint16_t t = mus_chord_pcs(c);
                int hit = mus_popcount16((uint16_t)(t & set)), missing = mus_popcount16((uint16_t)(t & ~set));
                int extra = mus_popcount16((uint16_t)(set & ~t));
                /* explained notes count most, unexplained ones cost more than absent chord tones;
                 * the lowest note is likely the root; simpler chords win ties */
                float score = 2.0f * hit - 1.0f * missing - 1.5f * extra - 0.05f * mus_popcount16(t);
                if (bass < 12 && mus_chord_root(c) == bass) score += 0.3f;
                if (score > best_score) {
                    best_score = score;
                    best = c;
                }
            }
            fit_table[set][bass] = (uint16_t)best;
        }
}

void mus_vocab_init(void) { pthread_once(&vocab_once, build_tables); }

int mus_chord_fit(uint16_t pcs, int bass_pc)
{
    pcs &= 0xfff;
    return fit_table[pcs][bass_pc >= 0 && bass_pc < 12 ? bass_pc : 12];
}

static const char *const style_names[MUS_NSTYLES] = {
    "free", "ballad", "blues", "country", "dance", "folk", "funk",
    "latin", "march", "other", "pop", "rock", "swing", "waltz"};

const char *mus_style_name(int s) { return s >= 0 && s < MUS_NSTYLES ? style_names[s] : "?"; }

int mus_style_from_name(const char *g)
{
    for (int i = 0; i < MUS_NSTYLES; i++)
        if (!strcmp(g, style_names[i])) return i;
    return -1;
}

int mus_meter_class(int bpb)
{
    switch (bpb) {
    case 4: return 0;
    case 3: return 1;
    case 2: return 2;
    case 6: return 3;
    case 5: return 4;
    default: return 5;
    }
}

int mus_position_id(int bpb, int step_in_bar)
{
    if (step_in_bar < 0) step_in_bar = 0;
    if (step_in_bar >= MUS_MAX_BAR_STEPS) step_in_bar = MUS_MAX_BAR_STEPS - 1;
    return mus_meter_class(bpb) * MUS_MAX_BAR_STEPS + step_in_bar;
}
