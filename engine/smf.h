/* smf.h: Standard MIDI Files (formats 0 and 1): a strict reader for untrusted files and a writer. */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum smf_kind { SMF_MIDI = 0, SMF_META = 1, SMF_SYSEX = 2 };

enum {
    SMF_META_TEXT = 0x01,
    SMF_META_TRACK_NAME = 0x03,
    SMF_META_END_OF_TRACK = 0x2f,
    SMF_META_TEMPO = 0x51,
    SMF_META_TIME_SIGNATURE = 0x58,
    SMF_META_KEY_SIGNATURE = 0x59,
};

typedef struct smf_event {
    uint64_t tick;      /* absolute ticks from the start of the track */
    uint32_t data_off;  /* meta/sysex payload: offset into smf->blob */
    uint32_t data_len;  /* meta/sysex payload length */
    uint8_t kind;       /* enum smf_kind */
    uint8_t meta_type;  /* for SMF_META */
    uint8_t nbytes;     /* for SMF_MIDI: 1..3 bytes of the message */
    uint8_t bytes[3];   /* for SMF_MIDI: status and data bytes (running status expanded) */
} smf_event;

typedef struct smf_track {
    char name[64];      /* from the first track-name meta event; "" when none */
    smf_event *events;  /* in file order (writer: sorted by tick on write) */
    size_t n, cap;
} smf_track;

typedef struct smf {
    int format;         /* 0 or 1 (2 is read as 1) */
    int division;       /* ticks per quarter note (SMPTE files are converted to ticks of 1/1000 s at 120 BPM) */
    int ntracks;
    smf_track *tracks;
    uint8_t *blob;      /* meta and sysex payloads */
    size_t blob_len, blob_cap;
} smf;

/* Files larger than this are refused (a performance is far smaller). */
#define SMF_MAX_FILE_BYTES (64u << 20)
#define SMF_MAX_TRACKS 1024

/* Reads a file; on failure returns -1, *out is NULL and err holds one sentence naming the problem. */
int smf_read_file(const char *path, smf **out, char *err, size_t errlen);

/* Reads from memory; same contract as smf_read_file. */
int smf_read_mem(const uint8_t *data, size_t len, smf **out, char *err, size_t errlen);

/* Frees a file read or built with this module (NULL is fine). */
void smf_free(smf *s);

/* A new, empty format-1 file with the given ticks per quarter note. NULL when out of memory. */
smf *smf_new(int division);

/* Appends a track (named when name is not NULL); returns its index or -1 when out of memory. */
int smf_add_track(smf *s, const char *name);

/* Appends a MIDI message (1..3 bytes) to a track at an absolute tick; 0 or -1. */
int smf_add_midi(smf *s, int track, uint64_t tick, const uint8_t *bytes, int nbytes);

/* Appends a meta event with a payload; 0 or -1. */
int smf_add_meta(smf *s, int track, uint64_t tick, uint8_t type, const void *data, uint32_t len);

/* Appends a tempo event (microseconds per quarter note); 0 or -1. */
int smf_add_tempo(smf *s, int track, uint64_t tick, uint32_t usec_per_quarter);

/* Writes the file atomically (a temporary file then rename), events of each track stably sorted
 * by tick, with an end-of-track event; 0, or -1 with one sentence in err. */
int smf_write_file(smf *s, const char *path, char *err, size_t errlen);

/* Serialises into a malloc'd buffer (*out, *len); 0 or -1. The caller frees *out. */
int smf_write_mem(smf *s, uint8_t **out, size_t *len);

/* A tempo map (all tempo events of all tracks) for converting ticks to seconds. */
typedef struct smf_tempo_map {
    size_t n;
    uint64_t *tick;        /* start tick of each segment */
    double *seconds;       /* time at that tick */
    double *sec_per_tick;  /* within the segment */
} smf_tempo_map;

/* Builds the tempo map of a file (120 BPM until the first tempo event); 0 or -1 (out of memory). */
int smf_tempo_map_build(const smf *s, smf_tempo_map *map);

/* Converts an absolute tick to seconds. */
double smf_tempo_map_seconds(const smf_tempo_map *map, uint64_t tick);

/* Converts seconds to the nearest absolute tick. */
uint64_t smf_tempo_map_ticks(const smf_tempo_map *map, double seconds);

/* Frees the arrays of a tempo map. */
void smf_tempo_map_free(smf_tempo_map *map);
