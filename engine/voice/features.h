/* features.h: per-frame timbre features of a note (f0, loudness, harmonics, noise bands) and their
 * file format (docs/voices-data.md), read safely from untrusted files. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define VOICE_FRAME_RATE 200       /* frames per second: one frame every 5 ms */
#define VOICE_HARMONICS 64         /* harmonic amplitudes per frame */
#define VOICE_BANDS 40             /* noise bands per frame, mel-spaced from 0 Hz to VOICE_BAND_TOP_HZ */
#define VOICE_BAND_TOP_HZ 20000.0
#define VOICE_FLOOR_DB (-120.0f)   /* level given to what is silent or cannot be measured */
#define VOICE_INSTRUMENT_NAME 48   /* bytes of an instrument name, NUL included */

/* Frame flags. */
enum {
    VOICE_VOICED = 1u << 0,  /* the pitch tracker was confident: f0_hz was measured in this frame */
    VOICE_ONSET = 1u << 1,   /* a note starts in this frame */
    VOICE_CLIPPED = 1u << 2, /* a sample within half a hop of the frame's centre is at full scale */
    VOICE_FLAGS_ALL = 7u,
};

/* One analysis frame, centred at time index / VOICE_FRAME_RATE seconds. */
typedef struct voice_frame {
    float f0_hz;         /* fundamental the harmonics were measured at (held through unvoiced
                          * frames from the nearest voiced one); 0 when no pitch is known at all */
    float periodicity;   /* the pitch tracker's confidence, 0..1 */
    float loudness_db;   /* A-weighted mean-square power, dB re full scale (a 1 kHz full-scale sine
                          * reads -3.01 dB); VOICE_FLOOR_DB at most */
    float since_onset_s; /* seconds since the last onset (since the start before the first one) */
    float harm[VOICE_HARMONICS];  /* peak amplitude of harmonic h+1 (a sine of amplitude 1 reads 1);
                                   * 0 at and above the Nyquist frequency */
    float noise_db[VOICE_BANDS];  /* mean-square power of the non-harmonic residual in each band, dB
                                   * re full scale; VOICE_FLOOR_DB at least */
    uint32_t flags;      /* VOICE_VOICED | VOICE_ONSET | VOICE_CLIPPED */
} voice_frame;

/* Which part of the data set a note belongs to (docs/voices-data.md explains the rule). */
enum voice_split {
    VOICE_SPLIT_TRAIN = 0,
    VOICE_SPLIT_PITCH = 1,      /* held out: a pitch the instrument is not trained on */
    VOICE_SPLIT_VELOCITY = 2,   /* held out: a velocity the instrument is not trained on */
    VOICE_SPLIT_INSTRUMENT = 3, /* held out: an instrument not trained on at all */
    VOICE_SPLIT_RECORDING = 4,  /* a user's recording, not part of the data set */
    VOICE_SPLIT_COUNT = 5,
};

/* A note (or a whole recording) and its frames. */
typedef struct voice_note {
    int program;         /* General MIDI program 0..127; -1 for a recording */
    int pitch;           /* MIDI pitch 0..127; -1 when unknown */
    int velocity;        /* MIDI velocity 1..127; 0 when unknown */
    int split;           /* enum voice_split */
    float length_s;      /* note-on to note-off in seconds; 0 when unknown */
    int sample_rate;     /* of the analysed audio */
    float peak;          /* largest absolute sample of the analysed audio (1 = full scale) */
    char instrument[VOICE_INSTRUMENT_NAME]; /* printable ASCII */
    size_t n_frames;
    voice_frame *frames;
    size_t n_audio;      /* samples of the analysed audio kept beside the features (held-out notes,
                          * for evaluation); 0 when not kept */
    float *audio;        /* mono, at sample_rate; stored as 16-bit with a scale */
} voice_note;

/* The notes of one feature file. */
typedef struct voice_set {
    size_t n_notes;
    voice_note *notes;
} voice_set;

/* Limits a reader enforces (a damaged count never becomes a huge allocation). */
#define VOICE_MAX_NOTES 1000000u
#define VOICE_MAX_FRAMES (VOICE_FRAME_RATE * 3600u)  /* an hour */
#define VOICE_MAX_AUDIO (192000u * 600u)             /* ten minutes at 192 kHz */

/* Reader flags. */
enum { VOICE_READ_NO_CHECKSUM = 1 }; /* skip the CRC checks (to fuzz the checks behind them) */

/* The band edges in Hz: edges[0] = 0 ... edges[VOICE_BANDS] = VOICE_BAND_TOP_HZ. */
const double *voice_band_edges(void);

/* Centre frequency of a band in Hz (the mel-scale midpoint). */
double voice_band_centre(int band);

/* True when a frame's values are all finite and within their documented ranges. */
int voice_frame_valid(const voice_frame *f);

/* Writes a feature file atomically (a temporary file, then rename); 0, or -1 with one sentence
 * in err. */
int voice_features_write(const char *path, const voice_note *notes, size_t n, char *err,
                         size_t errlen);

/* Serialises notes into a malloc'd buffer (*out, *len; the caller frees *out); 0, or -1 with err. */
int voice_features_write_mem(const voice_note *notes, size_t n, uint8_t **out, size_t *len,
                             char *err, size_t errlen);

/* Streams notes into a feature file: create, append each note, then close (which renames the
 * temporary file into place) or abort (which removes it). */
typedef struct voice_features_writer voice_features_writer;
voice_features_writer *voice_features_create(const char *path, char *err, size_t errlen);
int voice_features_append(voice_features_writer *w, const voice_note *note, char *err, size_t errlen);
int voice_features_close(voice_features_writer *w, char *err, size_t errlen);
void voice_features_abort(voice_features_writer *w);

/* Reads a feature file; on failure returns -1, *out is NULL and err holds one sentence naming the
 * file and what is wrong with it. */
int voice_features_read_file(const char *path, voice_set **out, char *err, size_t errlen);

/* Reads from memory (flags: VOICE_READ_*); same contract as voice_features_read_file, but err
 * says what is wrong without a file name. */
int voice_features_read_mem(const uint8_t *data, size_t len, unsigned flags, voice_set **out,
                            char *err, size_t errlen);

/* Frees a set read by this module (NULL is fine). */
void voice_set_free(voice_set *s);

/* Frees the frames and audio of one note this module or the analyser allocated. */
void voice_note_clear(voice_note *n);

/* A short name for a split ("train", "pitch", "velocity", "instrument", "recording"). */
const char *voice_split_name(int split);
