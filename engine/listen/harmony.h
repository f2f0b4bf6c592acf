/* harmony.h: online harmony estimation from what the performer plays: the current chord (root
 * and quality from a template set) and the key (major or minor, with confidence and change
 * detection). Fed with notes (MIDI, or notes found in audio) and with chroma frames (polyphonic
 * audio); it only ever looks back. Real-time safe: a plain struct, no allocation, bounded work. */
#pragma once

#include "engine/listen/listen_state.h"

#include <stdint.h>

typedef struct bm_harmony {
    uint8_t sounding[128];    /* note-ons not yet released, per note */
    double on_beat[128];      /* beat of each note's last note-on */
    float released[12];       /* pitch classes of released notes, decaying */
    float chroma[12];         /* smoothed audio chroma */
    float chroma_level;       /* how much the chroma counts (0 when no audio) */
    float key_hist[12];       /* long-memory pitch-class histogram for the key */
    float key_recent[12];     /* the same over about the last bar */
    double last_beat;         /* time of the last decay */
    double cluster_beat;      /* beat of the first note-on of the latest attack */
    int cluster_n;            /* note-ons in it */
    int last_bass;            /* lowest pitch class of the latest attack, -1 */
    int dirty;                /* notes changed since the last estimate */
    /* the estimates */
    int chord_root, chord_quality;
    float chord_score;
    double chord_since;
    int key_root, key_minor;
    float key_score, key_conf;
    double key_since;
    uint32_t key_changes;
    int cand_root, cand_minor;  /* a key that is winning but not yet accepted */
    double cand_since;
    int lost_root, lost_minor; /* the key the recent notes fit better than the current one */
    double lost_evidence;     /* beats of that, leaking away while it is not so */
    double lost_beat;         /* time of the last key estimate */
    float key_weight;          /* total evidence in key_hist */
} bm_harmony;

/* Starts empty (no chord, key unknown). */
void harmony_init(bm_harmony *h);

/* A performer note-on / note-off at a beat. */
void harmony_note_on(bm_harmony *h, int note, int velocity, double beat);
void harmony_note_off(bm_harmony *h, int note, double beat);

/* A chroma frame from polyphonic audio (12 weights, any scale) lasting dur_beats, at a beat;
 * onset: an attack was heard in this frame (older evidence is let go faster). */
void harmony_chroma(bm_harmony *h, const float chroma[12], double dur_beats, int onset, double beat);

/* Lets old evidence decay up to a beat and updates the chord and key estimates. Call once per
 * period (estimating once per period, not per note, keeps a chord's notes together). */
void harmony_update(bm_harmony *h, double beat);

/* Copies the estimates into a snapshot. */
void harmony_fill(const bm_harmony *h, bm_listen_state *s);

/* Best chord for a pitch-class vector (exposed for tests and the offline evaluation): returns the
 * score (0..1) and sets root (-1 when the vector is empty) and quality; bass is a pitch class or -1. */
float harmony_best_chord(const float v[12], int bass, int *root, int *quality);

/* Best key for a pitch-class histogram: returns the correlation and sets root and minor; second
 * receives the next best key's correlation (may be NULL). */
float harmony_best_key(const float hist[12], int *root, int *minor, float *second);
