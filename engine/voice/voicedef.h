/* voicedef.h: a voice: a point (or a path over pitch) in the decoder's latent map, placed by the
 * encoder from notes of one instrument or a performer's recording, with the loudness contour its
 * notes follow after note-on and after note-off, and an output gain. Saved as a model file
 * (voices/NAME.bmnn, docs/voices.md); loading validates every value and checks that the voice was
 * placed for the decoder it is played with. Loading and placing are offline; voice_def_z and
 * voice_def_blend are real-time safe. */
#pragma once

#include "engine/voice/model.h"

#include <stddef.h>
#include <stdint.h>

#define VOICE_PATH_MAX 8
#define VOICE_ENV_LAYERS 4       /* loudness contours at velocities 32, 64, 96 and 127 */
#define VOICE_ENV_HOLD 300       /* frames of contour after note-on (1.5 s) */
#define VOICE_ENV_RELEASE 200    /* frames of contour after note-off (1 s) */
#define VOICE_NAME_MAX 48

extern const int voice_env_velocity[VOICE_ENV_LAYERS];

typedef struct voice_def {
    char name[VOICE_NAME_MAX];
    int zdim;
    int n_path;                                       /* anchors: 1 is a point */
    float path_pitch[VOICE_PATH_MAX];                 /* MIDI pitch of each anchor, ascending */
    float path_z[VOICE_PATH_MAX][VOICE_ZDIM_MAX];
    float hold_db[VOICE_ENV_LAYERS][VOICE_ENV_HOLD];  /* loudness (dB re full scale) from note-on, at ref_pitch */
    float release_db[VOICE_ENV_LAYERS][VOICE_ENV_RELEASE]; /* change of loudness from note-off (<= 0) */
    float ref_pitch;
    float pitch_slope_db;                             /* loudness per semitone away from ref_pitch */
    float tail_slope_db_s;                            /* after the hold contour (<= 0) */
    float gain_db;                                    /* output gain (voices equally loud) */
    float lowest, highest;                            /* pitches it was placed from */
    uint32_t decoder_id;                              /* voice_model_id of its decoder */
    char source[256];                                 /* where it came from, in words */
} voice_def;

/* Writes a voice file (atomically); command_line (may be NULL) is recorded. 0, or -1 with err. */
int voice_def_save(const voice_def *v, const char *path, const char *command_line, char *err, size_t errlen);

/* Loads and validates a voice file; decoder (may be NULL) is the model it must fit. 0, or -1 with
 * one sentence in err naming the file and what is wrong. */
int voice_def_load(voice_def *v, const char *path, const voice_model *decoder, char *err, size_t errlen);

/* The latent at a pitch: interpolated along the path (held beyond its ends). Real-time safe. */
void voice_def_z(const voice_def *v, float pitch, float *z);

/* The note-on contour at a velocity and pitch, frame k (held beyond the contour with the tail
 * slope). Real-time safe. */
float voice_def_hold_db(const voice_def *v, int velocity, float pitch, int k);

/* Blends voices with weights (summing to 1) into out: paths are resampled at common pitches,
 * contours and gains mixed in dB. All must share zdim. Real-time safe (no allocation). */
void voice_def_blend(const voice_def *const *v, const float *w, int n, voice_def *out);

/* ---- placing ---- */

/* A voice from notes of one instrument (data-set notes with pitch, velocity and length): the
 * encoder places a point and a path of up to 4 registers, contours come from the notes' loudness.
 * 0, or -1 with err (no usable notes). */
int voice_def_from_notes(const voice_model *vm, const voice_note *const *notes, size_t n, const char *name,
                         const char *source, voice_def *out, char *err, size_t errlen);

/* A voice from a recording analysed with onsets: one point (and a path when it spans more than an
 * octave), the contour after its onsets, a generic release. 0, or -1 with err. */
int voice_def_from_recording(const voice_model *vm, const voice_frame *frames, size_t n, int sample_rate,
                             const char *name, const char *source, voice_def *out, char *err, size_t errlen);

/* True when a name can be a voice file's name: 1..47 of letters, digits, '_', '-', '.', '+'. */
int voice_name_valid(const char *name);
