/* patch.h: a patch is a Lua file that declares a whole performance setup: the band's mode, tempo
 * and meter, the tempo source, which part the performer plays, each part's instrument, voice, MIDI
 * channel, gain and pan, the JACK and hardware-MIDI connections, the behaviour script and what it
 * may use, the OSC server, MIDI and OSC mappings of parameters, starting parameter values and a
 * chord chart. It runs in a sandbox and is validated field by field: a typo is an error that names
 * the field, never a silent default. docs/patches.md describes every field. */
#pragma once

#include "engine/control/song.h"
#include "engine/engine.h"

#define BM_PATCH_MAX_CONNECT 8
#define BM_PATCH_MAX_MAPS 64
#define BM_PATCH_MAX_ALLOW 16

enum bm_script_allow {
    BM_SCRIPT_ALLOW_IO = 1,       /* the io library and io-backed functions */
    BM_SCRIPT_ALLOW_OS = 2,       /* the whole os library (os.execute, os.remove, ...) */
    BM_SCRIPT_ALLOW_REQUIRE = 4,  /* Lua's own require and package (C modules included) */
};

typedef struct bm_patch_midi_map {
    char param[48];
    int channel;                      /* 0..15, or -1 for any channel */
    int cc;
} bm_patch_midi_map;

typedef struct bm_patch_osc_map {
    char path[128];                   /* an address outside /bm, as a controller sends it */
    char param[2][48];                /* one parameter per argument (two for an XY pad) */
    int nparams;
} bm_patch_osc_map;

typedef struct bm_patch_value {
    char id[48];
    int is_text;                      /* a name (option or text parameter) rather than a number */
    double value;
    char text[64];
} bm_patch_value;

typedef struct bm_patch {
    char name[128];
    char path[1024];                  /* "" for the built-in default */
    bm_engine_config cfg;
    char script[1024];                /* behaviour script, relative paths resolved against the patch */
    int audio_inputs;                 /* 0, 1 or 2 */
    char connect_audio_in[2][256];
    char connect_audio_out[2][256];
    char connect_midi_in[BM_PATCH_MAX_CONNECT][256];
    char connect_midi_out[BM_PATCH_MAX_CONNECT][256];
    int n_midi_in, n_midi_out;
    char pm_input[256];               /* PortMidi device name substring, "" for none */
    char pm_output[256];
    int osc_port;                     /* 0: the default */
    char osc_bind[64];                /* "" : every IPv4 interface */
    char osc_allow[BM_PATCH_MAX_ALLOW][64];
    int n_osc_allow;
    int osc_tcp, osc_lua;             /* TCP too; Lua code over OSC */
    int auto_connect;                 /* connect to the physical ports */
    char model[1024];                 /* the musician's model file (validated; mode accompany plays it) */
    char voice[BM_NUM_PARTS][64];     /* a voice name per part ("" : the part's instrument) */
    int script_allow;                 /* enum bm_script_allow bits */
    double script_memory_mb;          /* 0: the default */
    double script_budget_ms;          /* 0: the default */
    bm_patch_midi_map midi_map[BM_PATCH_MAX_MAPS];
    int n_midi_map;
    bm_patch_osc_map osc_map[BM_PATCH_MAX_MAPS];
    int n_osc_map;
    bm_patch_value values[BM_PATCH_MAX_MAPS]; /* params = { id = value, ... } */
    int n_values;
    bm_chord chords[BM_SONG_MAX_CHORDS];
    int n_chords;
} bm_patch;

/* The built-in default patch at 120 BPM, classic instruments, no connections: the trained musician
 * ("accompany") when its model loads, else the echo harmoniser (saying why, once, on stderr). */
void patch_defaults(bm_patch *p);

/* Loads a patch file over the defaults; 0, or -1 with one sentence in err. */
int patch_load(const char *path, bm_patch *p, char *err, size_t errlen);
