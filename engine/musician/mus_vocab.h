/* mus_vocab.h: the musician's representation: the grid, the token vocabularies of each part, the
 * drum kit map, the chord vocabulary of the comping part, styles and meters. Shared by the corpus
 * reader, training, the live behaviour and evaluation, so that all of them read music alike. */
#pragma once

#include <stdint.h>

#define MUS_STEPS_PER_BEAT 4

/* The band's parts as the model knows them (engine part = MUS part + 1). */
enum { MUS_BASS = 0, MUS_DRUMS, MUS_COMP, MUS_LEAD, MUS_NPARTS };

/* Who the performer is, as a model input: nobody, or one of the parts. */
enum { MUS_ROLE_NONE = 0, MUS_ROLE_BASS, MUS_ROLE_DRUMS, MUS_ROLE_COMP, MUS_ROLE_LEAD, MUS_NROLES };

/* Monophonic parts (bass, lead): token 0 rest, 1 hold (the last note sounds on), 2 + pitch - low. */
#define MUS_TOK_REST 0
#define MUS_TOK_HOLD 1
#define MUS_MONO_RANGE 48
#define MUS_MONO_VOCAB (2 + MUS_MONO_RANGE)
#define MUS_BASS_LOW 24  /* C1 .. B4 */
#define MUS_LEAD_LOW 48  /* C3 .. B6 */

/* Comping rhythm: rest, hold, a soft hit, a loud hit; a hit also has a chord (root x quality). */
enum { MUS_COMP_REST = 0, MUS_COMP_HOLD, MUS_COMP_SOFT, MUS_COMP_LOUD, MUS_COMP_RHYTHM_VOCAB };
#define MUS_COMP_LOUD_VEL 80   /* mean onset velocity from which a hit is loud */
#define MUS_NQUALITY 22
#define MUS_NCHORDS (12 * MUS_NQUALITY)      /* chord id = root * MUS_NQUALITY + quality */
#define MUS_CHORD_NONE MUS_NCHORDS           /* as an input: no chord played yet */

/* Drums: kit pieces, each hit in one of three velocity classes; a step is a multi-hot vector of
 * MUS_DRUM_UNITS bits (piece * 3 + class). */
#define MUS_NPIECES 16
#define MUS_NVEL 3
#define MUS_DRUM_UNITS (MUS_NPIECES * MUS_NVEL)

/* Styles: 0 is "free" (no style given); the rest are the corpus's genres. */
#define MUS_NSTYLES 14
/* Meter classes of the position input (beats per bar 4, 3, 2, 6, 5, other). */
#define MUS_NMETERS 6
#define MUS_MAX_BAR_STEPS 32

/* What the parts played in one grid step (the band's own outputs, and a part the performer
 * covers, in the same form). */
typedef struct mus_frame {
    uint8_t bass, lead;      /* mono tokens */
    uint8_t comp;            /* comping rhythm token */
    uint8_t pad;
    uint16_t chord;          /* chord id of a comping hit in this step (MUS_CHORD_NONE otherwise) */
    uint16_t pad2;
    uint64_t drums;          /* multi-hot drum units */
} mus_frame;

/* What the performer played in one step, summarised (pitch classes as 12-bit sets). */
typedef struct mus_hsum {
    uint16_t onset_pcs;      /* pitch classes of the notes begun in the step */
    uint16_t sound_pcs;      /* pitch classes of every note sounding in the step */
    uint8_t lo, hi;          /* lowest and highest sounding pitch (0 when nothing sounds) */
    uint8_t n_on;            /* note onsets (drum hits included) */
    uint8_t vel;             /* mean onset velocity */
    uint16_t drums;          /* kit pieces hit (as drums) */
    uint16_t pad;
} mus_hsum;

/* A quiet frame: everything resting. */
mus_frame mus_frame_rest(void);

/* Mono token for a pitch in a part whose range starts at low (folded by octaves into range). */
int mus_mono_token(int pitch, int low);

/* The pitch of a mono onset token (-1 for rest and hold). */
int mus_mono_pitch(int token, int low);

/* The kit piece a General MIDI drum note plays, or -1 when it is not in the kit. */
int mus_drum_piece(int gm_note);

/* The General MIDI note bandmate plays for a kit piece. */
int mus_drum_note(int piece);

/* The velocity class (0 soft, 1 normal, 2 accent) of a MIDI velocity. */
int mus_vel_class(int velocity);

/* A MIDI velocity that represents a velocity class. */
int mus_class_velocity(int vel_class);

/* Pitch classes of a chord id as a 12-bit set (0 for MUS_CHORD_NONE). */
uint16_t mus_chord_pcs(int chord);

/* The root pitch class of a chord id (-1 for MUS_CHORD_NONE). */
int mus_chord_root(int chord);

/* The chord id that best explains a set of pitch classes with the given lowest pitch class
 * (bass_pc -1: unknown); MUS_CHORD_NONE for an empty set. Table lookup after mus_vocab_init. */
int mus_chord_fit(uint16_t pcs, int bass_pc);

/* The name of a quality (e.g. "m7"). */
const char *mus_quality_name(int q);

/* Builds the lookup tables (once; thread-safe through pthread_once). */
void mus_vocab_init(void);

/* Style names, index 0 "free"; -1 for an unknown name. */
const char *mus_style_name(int style);
int mus_style_from_name(const char *genre);

/* The meter class of a bar of beats_per_bar beats. */
int mus_meter_class(int beats_per_bar);

/* The position input: meter class and step in the bar in one id. */
int mus_position_id(int beats_per_bar, int step_in_bar);

/* Number of set bits of a pitch-class set. */
int mus_popcount16(uint16_t x);

/* Transposes a 12-bit pitch-class set up by k semitones. */
uint16_t mus_pcs_transpose(uint16_t pcs, int k);
