/* audio_notes.h: a monophonic audio line (voice, sax, a guitar line) to notes: aubio's pitch
 * (yinfft) and onset detectors on short hops, a confidence and level gate, hysteresis against
 * warbling, velocity from loudness, and each note stamped at its estimated true start: the
 * attack found in a fine level envelope, or for a legato change of pitch the hop where the new
 * pitch appeared less half the analysis window. Created off the process thread (aubio allocates
 * there); audio_notes_process is called from the process thread: no allocation, no locks. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct bm_audio_notes bm_audio_notes;

typedef struct bm_audio_notes_config {
    double sample_rate;
    float silence_db;        /* level gate, dBFS */
    float min_confidence;    /* pitch confidence gate, 0..1 */
    float onset_threshold;   /* aubio onset threshold */
    float hysteresis;        /* semitones beyond a half-step for a pitch change to count */
    int lowest_note, highest_note;
    const char *method;      /* aubio pitch method; NULL: yinfft */
} bm_audio_notes_config;

/* A note found in the audio. */
typedef struct bm_heard_note {
    int on;                  /* 1 note-on, 0 note-off */
    int note, velocity;
    int64_t frame;           /* estimated true time on the input's timeline */
    int64_t detected;        /* the frame at which the analysis knew (end of the hop) */
    int relabel;             /* a note-on that corrects the pitch of the note just ended (same start:
                                its first pitch was an octave off or a scoop into it) */
} bm_heard_note;

/* What the analysis sees on its latest hop (for the status line and tests). */
typedef struct bm_audio_notes_probe {
    float db;                /* level of the hop */
    float pitch;             /* MIDI pitch (fractional), 0 when unvoiced */
    float confidence;
    int note;                /* sounding note, -1 */
    int onset;               /* aubio saw an onset on this hop */
} bm_audio_notes_probe;

/* Creates the analyser; NULL with one sentence in err (bad configuration, out of memory). */
bm_audio_notes *audio_notes_create(const bm_audio_notes_config *cfg, char *err, size_t errlen);

/* Frees it (not real-time). */
void audio_notes_destroy(bm_audio_notes *a);

/* Forgets everything (the next sound starts afresh). Not real-time (aubio's reset). */
void audio_notes_reset(bm_audio_notes *a);

/* Analyses n frames starting at frame (frames must follow on; a jump restarts the analysis); writes
 * up to max notes found into out, in order, and returns how many. Process thread. */
int audio_notes_process(bm_audio_notes *a, const float *in, uint32_t n, int64_t frame,
                        bm_heard_note *out, int max);

/* The analysis hop and window in frames. */
uint32_t audio_notes_hop(const bm_audio_notes *a);
uint32_t audio_notes_window(const bm_audio_notes *a);

/* The latest hop's analysis. */
bm_audio_notes_probe audio_notes_probe(const bm_audio_notes *a);
