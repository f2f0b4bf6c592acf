/* synth.h: the instrument interface each band part plays through (classic synth, drum kit, and the
 * neural voices), plus the classic instruments. All ops except create/destroy are called from the
 * process thread: they must not allocate, lock or do I/O, and must take bounded time.
 * Instruments render mono; the engine pans and mixes parts. Notes start and stop at the frame where
 * render was split by the caller, which is how events become sample-accurate. */
#pragma once

#include <stdint.h>

typedef struct bm_instrument bm_instrument;

typedef struct bm_instrument_ops {
    const char *kind;                                               /* "classic", "drums", ... */
    void (*note_on)(bm_instrument *in, int note, int velocity);     /* velocity 1..127 */
    void (*note_off)(bm_instrument *in, int note);
    void (*pitch_bend)(bm_instrument *in, float semitones);
    void (*control)(bm_instrument *in, int cc, int value);          /* 1 mod, 64 sustain, 74 brightness */
    void (*all_notes_off)(bm_instrument *in, int immediate);        /* immediate: a 5 ms fade, not a release */
    void (*render)(bm_instrument *in, float *out, uint32_t nframes);/* adds into out */
    int (*active_voices)(const bm_instrument *in);
    void (*set_sample_rate)(bm_instrument *in, double sample_rate);
    void (*destroy)(bm_instrument *in);                             /* not real-time */
    void (*set_param)(bm_instrument *in, int param, float value);  /* optional (NULL): e.g. a neural
                                                                       voice's morph position */
} bm_instrument_ops;

/* set_param ids; an instrument ignores those it does not know. */
enum {
    BM_SYNTH_MORPH_X = 1,   /* 0..1: a neural voice's morph from its first voice towards its second */
    BM_SYNTH_MORPH_Y = 2,   /* 0..1: towards its third and fourth (an XY pad) */
    BM_SYNTH_GAIN = 3,      /* linear output gain */
};

struct bm_instrument {
    const bm_instrument_ops *ops;
    char name[48];      /* the preset or voice name, for status and errors */
};

/* The classic (subtractive/FM) presets. */
enum bm_classic_preset {
    BM_CLASSIC_BASS = 0,    /* saw + sub square, resonant low-pass with a plucky envelope */
    BM_CLASSIC_KEYS,        /* two-operator FM electric piano */
    BM_CLASSIC_LEAD,        /* detuned saws with vibrato and glide */
    BM_CLASSIC_PAD,         /* slow detuned saws, soft low-pass */
    BM_CLASSIC_ORGAN,       /* drawbar-style additive sines */
    BM_CLASSIC_PLUCK,       /* bright square pluck */
    BM_NUM_CLASSIC_PRESETS
};

/* Name of a classic preset ("bass", "keys", "lead", "pad", "organ", "pluck"). */
const char *synth_classic_preset_name(int preset);

/* Preset index from a name, or -1. */
int synth_classic_preset_from_name(const char *name);

/* A classic polyphonic instrument (voices >= 1, at most 64); NULL when out of memory. Not real-time. */
bm_instrument *synth_classic_create(int preset, int voices, double sample_rate);

/* The classic drum kit, General MIDI note map (35..81); NULL when out of memory. Not real-time. */
bm_instrument *synth_drums_create(int voices, double sample_rate);

/* Frees any instrument (calls its destroy op). Not real-time. NULL is fine. */
void instrument_destroy(bm_instrument *in);

/* Sets flush-to-zero and denormals-are-zero for the calling thread (cheap; call per process cycle). */
void synth_denormals_off(void);
