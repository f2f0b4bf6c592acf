/* event.h: the plain event struct that travels between bandmate's threads, and the band's parts. */
#pragma once

#include <stdint.h>

enum bm_part {
    BM_PART_HUMAN = 0,
    BM_PART_BASS,
    BM_PART_DRUMS,
    BM_PART_COMPING,
    BM_PART_LEAD,
    BM_NUM_PARTS
};

enum bm_event_type {
    BM_EV_NONE = 0,
    BM_EV_NOTE_ON,
    BM_EV_NOTE_OFF,
    BM_EV_CC,           /* note = controller, velocity = value */
    BM_EV_PITCH_BEND,   /* value = -8192..8191 */
    BM_EV_PROGRAM,      /* note = program */
    BM_EV_PRESSURE,     /* channel pressure: velocity = value */
    BM_EV_ALL_OFF,      /* all notes off on the part */
    BM_EV_TEMPO,        /* value_f = beats per minute (recorder and feedback) */
    BM_EV_CLOCK,        /* a MIDI real-time byte (note = 0xF8, 0xFA, 0xFB, 0xFC) */
    BM_EV_BEAT,         /* feedback: a beat started (value = bar, note = beat in bar, 0-based) */
    BM_EV_XRUN,         /* feedback: the audio driver reported an xrun */
    BM_EV_ONSET,        /* the performer: an attack heard in polyphonic audio (velocity = loudness) */
    BM_EV_PHRASE_START, /* the performer began a phrase (frame, beat: its first note) */
    BM_EV_PHRASE_END,   /* the performer ended a phrase: beat = its end, value_f = its length in
                           beats (start = beat - value_f), value = notes in it, note = the reason
                           (enum bm_phrase_reason: 1 rest, 2 bar line, 3 end of call); frame =
                           when it was recognised */
};

enum bm_event_flags {
    BM_EVF_BEAT = 1,    /* stamped in beats (beat field), not in frames */
    BM_EVF_LATE = 2,    /* was emitted after its due time */
    BM_EVF_PREVIEW = 4, /* a preview of what the band expects to play (never played as such) */
};

typedef struct bm_event {
    int64_t frame;      /* due time on the engine timeline (frames since the engine started) */
    double beat;        /* due time in beats, when flags has BM_EVF_BEAT */
    float value_f;      /* BM_EV_TEMPO: BPM */
    int16_t value;      /* BM_EV_PITCH_BEND */
    uint8_t type;       /* enum bm_event_type */
    uint8_t part;       /* enum bm_part */
    uint8_t channel;    /* MIDI channel 0..15 */
    uint8_t note;       /* note number, controller or program */
    uint8_t velocity;   /* velocity or controller value */
    uint8_t flags;      /* enum bm_event_flags */
} bm_event;

/* Names of the parts as used in files, OSC and Lua: "human", "bass", "drums", "comping", "lead". */
const char *bm_part_name(int part);

/* Part index for a name, or -1. */
int bm_part_from_name(const char *name);

/* Encodes an event as a MIDI message into out (up to 3 bytes); returns its length or 0 if it has none. */
int bm_event_to_midi(const bm_event *ev, uint8_t out[3]);

/* Decodes a short MIDI message into ev (type, channel, note, velocity, value); returns 0, or -1 for
 * messages bandmate does not route (sysex, unknown). Note-on with velocity 0 becomes note-off. */
int bm_event_from_midi(const uint8_t *bytes, int n, bm_event *ev);

/* Stable insertion sorts, by frame or by beat: real-time safe, meant for the short, mostly ordered
 * lists of a period or a phrase. */
void bm_events_sort_by_frame(bm_event *ev, int n);
void bm_events_sort_by_beat(bm_event *ev, int n);
