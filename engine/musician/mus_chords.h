/* mus_chords.h: an online chord tracker: a hidden Markov model over 60 chords (12 roots x 5
 * families: major, minor, dominant, diminished, suspended) run forward one grid step at a time on
 * what the performer plays. Its transitions are learnt from the corpus's charts: whether the chord
 * changes depends on the position in the bar (chords change on bar lines and half bars), where it
 * goes on the chord and the key (with a key-free fallback); its emissions, the pitch classes a
 * bass line, a comping part or a melody plays over each family, are learnt from the corpus's parts
 * against the chart. A form memory (the chords of the song so far, labelled with two beats of
 * hindsight) notices when the progression repeats itself, every 4, 8, 12, 16 ... bars, and lends
 * the prediction the chord that came next the last time round.
 *
 * Each step gives the posterior of the chord just heard and a prediction of the next step's chord
 * (filtering only: never the future). The band leans its bass and comping toward the predicted
 * chord's tones (mus_band.c); the tables are fitted on the training songs and kept in the
 * musician's model file. Real-time safe: the state is a fixed-size struct; hearing a step does a
 * fixed amount of work and allocates nothing. */
#pragma once

#include "engine/musician/mus_vocab.h"

#include <stddef.h>

enum { MUS_FAM_MAJOR = 0, MUS_FAM_MINOR, MUS_FAM_DOMINANT, MUS_FAM_DIM, MUS_FAM_SUS, MUS_NFAMILIES };
#define MUS_CT_STATES (12 * MUS_NFAMILIES)  /* state = root * MUS_NFAMILIES + family */
#define MUS_CT_KEYS 25                      /* tonic * 2 + (minor), and 24: no key known */
#define MUS_CT_ROLES 3                      /* the performer as bass, comping, melody */
#define MUS_CT_PLACES 4                     /* where an onset falls: bar line, beat, eighth, sixteenth */
#define MUS_CT_LAG 8                        /* steps of hindsight of the form memory */
#define MUS_CT_HISTORY 2048                 /* steps the form memory keeps (64 bars of 8/4) */
#define MUS_CT_NLAGS 8

/* Counts gathered from a corpus: everything the tables are made of (and what a model file keeps). */
typedef struct mus_chords_counts {
    float change[MUS_NMETERS][MUS_MAX_BAR_STEPS][2];  /* steps at a position: [0] all, [1] a change */
    float keyed[2][12][MUS_NFAMILIES][12][MUS_NFAMILIES]; /* changes by mode, degree and family, to degree, family */
    float rel[MUS_NFAMILIES][12][MUS_NFAMILIES];      /* changes by family, root interval, family */
    float emit[MUS_CT_ROLES][MUS_CT_PLACES][MUS_NFAMILIES][12]; /* onset pitch classes over the chord root */
    float held[MUS_CT_ROLES][MUS_NFAMILIES][12];      /* pitch classes held on from an earlier step */
    float low[MUS_CT_ROLES][MUS_NFAMILIES][12];       /* lowest sounding pitch class over the root */
    float tone[MUS_NFAMILIES][13];                    /* chart steps with each interval a chord tone; [12] all */
} mus_chords_counts;

/* How the tracker weighs its evidence (fixed in bandmate; the defaults were chosen on the
 * validation songs). */
typedef struct mus_chords_params {
    float w_onset, w_held, w_low; /* weights of a pitch class begun in the step, one held from before
                                     (heard again every step), the lowest note */
    float key_backoff;            /* pseudo-changes of the key-free transitions behind the keyed ones */
    float floor;                  /* share of every chord in the posterior: nothing is ruled out */
    float rep_weight;             /* the form memory's share of the prediction when it is sure */
    float rep_decay;              /* how fast its match scores forget (per chord change compared) */
    float rep_threshold;          /* the match score from which it speaks */
} mus_chords_params;

mus_chords_params mus_chords_defaults(void);

/* The tracker's tables (made from counts; about 370 kB). */
typedef struct mus_chords_model {
    mus_chords_params params;
    mus_chords_counts counts;
    float trans[MUS_CT_KEYS][MUS_CT_STATES][MUS_CT_STATES]; /* P(to | from, key) given a change */
    float p_change[MUS_NMETERS][MUS_MAX_BAR_STEPS];
    float emit[MUS_CT_ROLES][MUS_CT_PLACES][MUS_NFAMILIES][12]; /* log P(interval | family), minus log 1/12 */
    float held[MUS_CT_ROLES][MUS_NFAMILIES][12];
    float low[MUS_CT_ROLES][MUS_NFAMILIES][12];
    float tone[MUS_NFAMILIES][12];                  /* P(interval is a chord tone | family) */
} mus_chords_model;

/* The state of one tracker. */
typedef struct mus_chords {
    float post[MUS_CT_STATES];    /* P(chord of the last step heard | everything heard) */
    float pred[MUS_CT_STATES];    /* P(chord of the next step | everything heard) */
    float rep_conf;               /* how surely the progression repeats (0..1) */
    int rep_chord;                /* the chord the form memory expects next (-1: none) */
    /* hindsight: the last MUS_CT_LAG steps' filtered posteriors and evidence */
    float alpha[MUS_CT_LAG][MUS_CT_STATES];
    float like[MUS_CT_LAG][MUS_CT_STATES];
    float pch[MUS_CT_LAG];
    int64_t heard;                /* steps heard since reset */
    uint8_t hist[MUS_CT_HISTORY]; /* the chords labelled with hindsight, by step (ring) */
    float score[MUS_CT_NLAGS];    /* how well the progression matched itself at each lag */
    int bar_steps;                /* the bar length the lags were measured in */
} mus_chords;

/* The family of a chord given as pitch classes relative to its root (bit k: k semitones up). */
int mus_chords_family(uint16_t rel_pcs);

/* The state for a chart chord (root pitch class and pitch-class set), or -1 when there is none. */
int mus_chords_state_of(int root, uint16_t pcs);

/* Adds one song's counts (its chart and parts); songs without a chart add nothing. */
struct mus_song;
void mus_chords_count_song(mus_chords_counts *c, const struct mus_song *s);

/* Makes the tables from counts (params NULL: the defaults). */
void mus_chords_model_build(mus_chords_model *m, const mus_chords_counts *c, const mus_chords_params *p);

/* The counts as text (for a model file's metadata) into a new malloc'd string; NULL when out of
 * memory. And back: 0, or -1 when the text is damaged. */
char *mus_chords_counts_text(const mus_chords_counts *c);
int mus_chords_counts_parse(mus_chords_counts *c, const char *text);

/* Forgets everything heard. */
void mus_chords_reset(mus_chords *t);

/* Hears one step of the performer (role MUS_ROLE_*; a drummer or nobody tells nothing about
 * chords) at step_in_bar of a bar of beats_per_bar beats, in the key the harmony estimate gives
 * (tonic -1: none yet), then predicts the next step's chord. */
void mus_chords_hear(mus_chords *t, const mus_chords_model *m, const mus_hsum *heard, int role, int beats_per_bar,
                     int step_in_bar, int key_tonic, int key_mode);

/* The probability that each pitch class is a chord tone of the predicted next chord, into pcs[12]. */
void mus_chords_predicted_tones(const mus_chords *t, const mus_chords_model *m, float *pcs);

/* The most likely next chord (a state) and its probability. */
int mus_chords_best(const mus_chords *t, float *p);
