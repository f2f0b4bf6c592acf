/* listen_state.h: what bandmate heard the performer play, as plain structs: the listening
 * configuration, and the snapshot (key, chord, tempo, phrase) that behaviours, the control layer
 * and the status line read. Nothing here allocates; the structs are copied between threads. */
#pragma once

#include <stdint.h>

enum bm_listen_audio {
    BM_LISTEN_OFF = 0,   /* audio input is not analysed (MIDI is always heard) */
    BM_LISTEN_MONO,      /* a monophonic line (voice, sax, a guitar line): pitch and onsets to notes */
    BM_LISTEN_POLY,      /* chords (a strummed guitar, a piano): onsets and 12-bin chroma */
};

enum bm_chord_quality {
    BM_CHORD_NONE = 0,
    BM_CHORD_MAJ,
    BM_CHORD_MIN,
    BM_CHORD_DOM7,
    BM_CHORD_MAJ7,
    BM_CHORD_MIN7,
    BM_CHORD_DIM,
    BM_CHORD_HALFDIM7,   /* m7b5 */
    BM_CHORD_AUG,
    BM_CHORD_SUS4,
    BM_CHORD_SUS2,
    BM_CHORD_COUNT
};

enum bm_phrase_reason {
    BM_PHRASE_GAP = 1,       /* a rest longer than the gap (in beats) */
    BM_PHRASE_BAR,           /* a bar line passed in a rest */
    BM_PHRASE_EXPLICIT,      /* the control layer said so (end of call) */
};

typedef struct bm_listen_config {
    int audio;               /* enum bm_listen_audio */
    int input;               /* which audio input: 0 (in_1) or 1 (in_2) */
    float silence_db;        /* level gate (dBFS): quieter input is silence */
    float min_confidence;    /* pitch confidence gate, 0..1 */
    float onset_threshold;   /* aubio onset peak-picking threshold */
    float hysteresis;        /* semitones beyond a half-step before the pitch counts as a new note */
    int lowest_note, highest_note; /* the instrument's range (MIDI notes) */
    double follow;           /* tempo follow strength with tempo source performer: 0 ignore .. 1 tight */
    double phrase_gap;       /* a rest this long (beats) ends a phrase */
    int phrase_bars;         /* a bar line passing in a rest of half a beat or more ends a phrase */
    int mix_input;           /* mix the input audio into the output (offline renders) */
    float input_gain;        /* its gain in that mix */
} bm_listen_config;

/* A snapshot of what was heard. Beats are positions on the engine's clock. */
typedef struct bm_listen_state {
    double beat;              /* when the snapshot was taken */
    /* key */
    int key_root;             /* 0..11 (C..B); -1 until enough was heard */
    int key_minor;            /* 1 minor, 0 major */
    float key_confidence;     /* 0..1: the margin of the best key over the next */
    double key_since;         /* beat at which the current key was recognised */
    uint32_t key_changes;
    /* chord */
    int chord_root;           /* 0..11; -1: none */
    int chord_quality;        /* enum bm_chord_quality */
    int bass;                 /* lowest pitch class sounding, -1 */
    float chord_confidence;   /* 0..1: how well the template fits */
    double chord_since;       /* beat at which the current chord was recognised */
    float pitch_classes[12];  /* recent pitch-class weights (chroma), largest 1 */
    /* tempo */
    double tempo_bpm;         /* the beat tracker's tempo; 0 until it has locked */
    float tempo_confidence;   /* 0..1: share of recent onsets that fell on its beats */
    /* phrases */
    int in_phrase;
    int sounding;             /* performer notes sounding now */
    double phrase_start;      /* beat of the current phrase's first note */
    int phrase_notes;         /* notes in it so far */
    double last_note;         /* beat of the last note-on; -1e9 before any */
    uint32_t phrases;         /* phrases ended so far */
    double last_phrase_start, last_phrase_end;
    int last_phrase_notes;
    int last_phrase_reason;   /* enum bm_phrase_reason */
    /* audio */
    float input_db;           /* input level of the last analysis hop */
    int audio_note;           /* note sounding by audio analysis, -1 */
    float audio_pitch;        /* last detected pitch (MIDI, fractional), 0 if none */
    float audio_confidence;
    uint64_t audio_notes;     /* notes found in the audio so far */
    uint64_t audio_onsets;
} bm_listen_state;

/* Defaults: audio off, input 0, -50 dB gate, confidence 0.8, onset threshold 0.3, hysteresis 0.35
 * semitones, notes 40..100 (E2 up: a 2048-frame window at 48 kHz), follow 1, phrase gap 1 beat, bar
 * lines end phrases, no input mix. */
void listen_config_defaults(bm_listen_config *c);

/* An empty snapshot: nothing known (roots -1, tempo 0). */
void listen_state_clear(bm_listen_state *s);

/* "maj", "min", "7", "maj7", "m7", "dim", "m7b5", "aug", "sus4", "sus2" ("" for none). */
const char *listen_chord_quality_name(int quality);

/* Quality from its name, or -1. */
int listen_chord_quality_from_name(const char *name);

/* Writes a chord like "Dm7" or "G7" or "-" into buf. */
const char *listen_chord_name(int root, int quality, char *buf, int cap);

/* Writes a key like "C major" or "F# minor" or "unknown" into buf. */
const char *listen_key_name(int root, int minor, char *buf, int cap);

/* "off", "mono", "poly" to enum bm_listen_audio, or -1. */
int listen_audio_from_name(const char *name);
