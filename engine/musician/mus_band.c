/* mus_band.c: the live musician's step. */
#include "engine/musician/mus_band.h"
#include "engine/musician/mus_chart.h"
#include "engine/musician/mus_corpus.h"
#include "engine/musician/mus_memory.h"
#include "engine/musician/mus_sample.h"
#include "engine/musician/mus_voicing.h"
#include "engine/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_NOTES 8

struct mus_band {
    const mus_model *model;
    mus_runner *run;
    mus_harmony harm;
    mus_chords chords;        /* the chord tracker */
    float tones[12];          /* its predicted chord tones for the step being decided */
    mus_frame last_band;      /* what the band played in the previous step */
    mus_frame last_heard;     /* the performer's part in the previous step */
    int last_chord;
    int human_quiet;          /* steps since the performer last sounded */
    mus_memory mem;
    uint8_t line[LINE_MAX_NOTES]; /* the recent lead line (performer and band), oldest first */
    int nline;
    /* what sounds */
    int bass_note, lead_note;
    uint8_t comp[MUS_VOICES_MAX];
    int ncomp;
    mus_voicing voicing;
    /* scratch */
    int ids[MUS_N_IDS];
    float dense[MUS_DENSE];
    float probs[MUS_SAMPLE_MAX], bias[MUS_SAMPLE_MAX];
    uint8_t allowed[MUS_SAMPLE_MAX];
    float memdist[128];
};

struct mus_band_snapshot {
    struct mus_band band;
    float *state;
    size_t n;
};

mus_band_snapshot *mus_band_snapshot_create(const mus_band *b)
{
    mus_band_snapshot *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n = mus_runner_state_size(b->run);
    s->state = malloc(s->n * sizeof *s->state);
    if (!s->state) {
        free(s);
        return NULL;
    }
    return s;
}

void mus_band_snapshot_free(mus_band_snapshot *s)
{
    if (!s) return;
    free(s->state);
    free(s);
}

void mus_band_save(const mus_band *b, mus_band_snapshot *s)
{
    s->band = *b;
    memcpy(s->state, mus_runner_state(b->run), s->n * sizeof *s->state);
}

void mus_band_restore(mus_band *b, const mus_band_snapshot *s)
{
    *b = s->band;
    memcpy(mus_runner_state(b->run), s->state, s->n * sizeof *s->state);
}

mus_band_ctl mus_band_ctl_defaults(void)
{
    mus_band_ctl c;
    memset(&c, 0, sizeof c);
    c.temperature = 1.0f;
    c.top_p = 0.95f;
    c.density = 0.5f;
    c.memory = 0.3f;
    c.key = -1;
    c.parts = (1u << MUS_NPARTS) - 1;
    c.role = MUS_ROLE_NONE;
    c.answer = 1;
    c.chart_root = -1;
    c.follow_chords = MUS_FOLLOW_CHORDS;
    c.follow_melody = MUS_FOLLOW_MELODY;
    return c;
}

mus_band *mus_band_create(const mus_model *m, char *err, size_t errlen)
{
    mus_vocab_init();
    mus_band *b = calloc(1, sizeof *b);
    if (!b) {
        bm_errf(err, errlen, "out of memory starting the musician");
        return NULL;
    }
    b->model = m;
    b->run = mus_runner_create(m, err, errlen);
    if (!b->run) {
        free(b);
        return NULL;
    }
    mus_band_reset(b);
    return b;
}

void mus_band_free(mus_band *b)
{
    if (!b) return;
    mus_runner_free(b->run);
    free(b);
}

void mus_band_reset(mus_band *b)
{
    mus_runner_reset(b->run);
    mus_harmony_reset(&b->harm);
    mus_chords_reset(&b->chords);
    b->last_band = mus_frame_rest();
    b->last_heard = mus_frame_rest();
    b->last_chord = MUS_CHORD_NONE;
    b->human_quiet = 1000;
    mus_memory_reset(&b->mem);
    b->nline = 0;
    b->bass_note = b->lead_note = -1;
    b->ncomp = 0;
    mus_voicing_reset(&b->voicing, 62);
}

static void line_push(mus_band *b, int pitch)
{
    if (b->nline == LINE_MAX_NOTES) {
        memmove(b->line, b->line + 1, LINE_MAX_NOTES - 1);
        b->nline--;
    }
    b->line[b->nline++] = (uint8_t)pitch;
}

/* Hears the performer's previous step and steps the model for step k; returns the logits. */
static const float *advance(mus_band *b, const mus_band_ctl *ctl, int64_t k, int bpb, const mus_hsum *heard,
                            const mus_frame *ht)
{
    static const mus_hsum silence;
    if (!heard) heard = &silence;
    mus_frame tok = ht ? *ht : mus_frame_rest();
    int role = ctl->role;
    int sounding = heard->n_on || heard->sound_pcs || heard->drums;
    b->human_quiet = sounding ? 0 : b->human_quiet + 1;
    mus_harmony_update(&b->harm, heard);
    int bar = bpb * MUS_STEPS_PER_BEAT;
    if (b->model->chords) {
        mus_chords_hear(&b->chords, b->model->chords, heard, role, bpb, (int)((((k - 1) % bar) + bar) % bar),
                        b->harm.key_tonic, b->harm.key_mode);
        mus_chords_predicted_tones(&b->chords, b->model->chords, b->tones);
    }
    /* the performer's part replaces the band's in what the model hears */
    mus_frame last = b->last_band;
    switch (role) {
    case MUS_ROLE_BASS: last.bass = tok.bass; break;
    case MUS_ROLE_DRUMS: last.drums = tok.drums; break;
    case MUS_ROLE_COMP: last.comp = tok.comp; last.chord = tok.chord; break;
    case MUS_ROLE_LEAD:
        /* one melodic line: the performer's, or the band's answer in their rests */
        if (tok.lead != MUS_TOK_REST || b->last_band.lead == MUS_TOK_REST) last.lead = tok.lead;
        break;
    default: break;
    }
    if (role == MUS_ROLE_LEAD) {
        int p = mus_mono_pitch(tok.lead, MUS_LEAD_LOW);
        if (p >= 0) {
            mus_memory_add(&b->mem, heard->hi ? heard->hi : p);
            line_push(b, heard->hi ? heard->hi : p);
        }
    }
    if (last.comp >= MUS_COMP_SOFT) b->last_chord = last.chord;
    b->last_heard = tok;
    mus_step_in in;
    memset(&in, 0, sizeof in);
    in.beats_per_bar = bpb;
    in.step_in_bar = (int)(((k % bar) + bar) % bar);
    in.style = ctl->style;
    in.role = role;
    in.density = ctl->density;
    in.swing = ctl->swing >= 0.5f;
    in.last = last;
    in.last_chord = b->last_chord;
    in.human = *heard;
    in.harmony = &b->harm;
    in.chart_root = ctl->chart_root;
    in.chart_pcs = ctl->chart_pcs;
    mus_features(&in, b->ids, b->dense);
    return mus_runner_step(b->run, b->ids, b->dense);
}

const float *mus_band_observe(mus_band *b, const mus_band_ctl *ctl, int64_t k, int bpb, const mus_hsum *heard,
                              const mus_frame *ht, const mus_frame *band)
{
    const float *logits = advance(b, ctl, k, bpb, heard, ht);
    b->last_band = *band;
    return logits;
}

static uint16_t lock_scale(const mus_band_ctl *ctl)
{
    if (ctl->key < 0 || ctl->key > 11) return 0xfff;
    return mus_pcs_transpose(mus_mode_scale(ctl->scale), ctl->key);
}

static int pick_mono(mus_band *b, const float *logits, int low, float bias, uint16_t scale, const mus_band_ctl *ctl,
                     int prev_token, uint64_t *rng, int with_memory, const float *tones, float follow,
                     const float *extra)
{
    for (int t = 0; t < MUS_MONO_VOCAB; t++) {
        int p = mus_mono_pitch(t, low);
        b->allowed[t] = p < 0 || (scale >> (p % 12) & 1);
        b->bias[t] = (p >= 0 ? bias : 0) + (extra ? extra[t] : 0);
    }
    if (prev_token == MUS_TOK_REST) b->allowed[MUS_TOK_HOLD] = 0; /* nothing to hold */
    mus_probs(logits, MUS_MONO_VOCAB, ctl->temperature, b->bias, b->allowed, b->probs);
    if (follow > 0 && tones) {
        /* which pitch leans toward the heard chord; whether to play at all stays the model's */
        float onset = 0, mass = 0;
        for (int t = 2; t < MUS_MONO_VOCAB; t++) {
            onset += b->probs[t];
            int p = mus_mono_pitch(t, low);
            b->probs[t] *= expf(follow * tones[p % 12] / (ctl->temperature > 0.01f ? ctl->temperature : 0.01f));
            mass += b->probs[t];
        }
        if (mass > 0)
            for (int t = 2; t < MUS_MONO_VOCAB; t++) b->probs[t] *= onset / mass;
    }
    if (with_memory && ctl->memory > 0 &&
        mus_memory_predict(&b->mem, b->line, b->nline, b->memdist) >= 0) {
        /* the performer's own continuation, mixed into the choice of pitch (not of rhythm) */
        float onset = 0, mass = 0;
        for (int t = 2; t < MUS_MONO_VOCAB; t++) onset += b->probs[t];
        float q[MUS_MONO_VOCAB];
        float inv_t = 1.0f / (ctl->temperature > 0.01f ? ctl->temperature : 0.01f);
        for (int t = 2; t < MUS_MONO_VOCAB; t++) {
            int p = mus_mono_pitch(t, low);
            /* the memory's choices sharpen with the temperature too */
            q[t] = b->allowed[t] && b->memdist[p] > 0 ? powf(b->memdist[p], inv_t) : 0;
            mass += q[t];
        }
        float w = ctl->memory > 1 ? 1 : ctl->memory;
        if (mass > 0)
            for (int t = 2; t < MUS_MONO_VOCAB; t++) b->probs[t] = (1 - w) * b->probs[t] + w * onset * q[t] / mass;
    }
    return mus_pick(b->probs, MUS_MONO_VOCAB, ctl->top_p, ctl->temperature <= MUS_GREEDY_TEMPERATURE, rng);
}

mus_frame mus_band_decide(mus_band *b, const mus_band_ctl *ctl, int64_t k, int bpb, const mus_hsum *heard,
                          const mus_frame *ht, uint64_t *rng)
{
    const float *logits = advance(b, ctl, k, bpb, heard, ht);
    mus_frame f = mus_frame_rest();
    float db = 3.0f * (ctl->density - 0.5f);
    uint16_t scale = lock_scale(ctl);
    int role = ctl->role;
    /* following the harmony heard: the tones of the chord the tracker expects are favoured */
    float follow = role == MUS_ROLE_COMP || role == MUS_ROLE_BASS ? ctl->follow_chords : ctl->follow_melody;
    const float *tones = b->tones;
    if (!b->model->chords) {
        uint16_t heard_pcs = mus_chord_pcs(b->harm.chord);
        for (int i = 0; i < 12; i++) b->tones[i] = (float)(heard_pcs >> i & 1);
        if (!heard_pcs) follow = 0;
        if (follow > MUS_FOLLOW_UNTRACKED) follow = MUS_FOLLOW_UNTRACKED;
    }
    if (ctl->chart_root >= 0) follow = 0;
    if ((ctl->parts >> MUS_BASS & 1) && role != MUS_ROLE_BASS)
        f.bass = (uint8_t)pick_mono(b, logits + mus_head_offset(MUS_HEAD_BASS), MUS_BASS_LOW, db, scale, ctl,
                                    b->last_band.bass, rng, 0, tones, follow, NULL);
    if ((ctl->parts >> MUS_DRUMS & 1) && role != MUS_ROLE_DRUMS)
        f.drums = mus_pick_drums(logits + mus_head_offset(MUS_HEAD_DRUMS), MUS_NPIECES, MUS_NVEL, ctl->temperature,
                                 db, ctl->top_p, rng);
    if ((ctl->parts >> MUS_COMP & 1) && role != MUS_ROLE_COMP) {
        for (int t = 0; t < MUS_COMP_RHYTHM_VOCAB; t++) {
            b->bias[t] = t >= MUS_COMP_SOFT ? db : 0;
            b->allowed[t] = !(t == MUS_COMP_HOLD && b->last_band.comp == MUS_COMP_REST);
        }
        mus_probs(logits + mus_head_offset(MUS_HEAD_COMP), MUS_COMP_RHYTHM_VOCAB, ctl->temperature, b->bias,
                  b->allowed, b->probs);
        f.comp = (uint8_t)mus_pick(b->probs, MUS_COMP_RHYTHM_VOCAB, ctl->top_p, ctl->temperature <= MUS_GREEDY_TEMPERATURE, rng);
        if (f.comp >= MUS_COMP_SOFT) {
            for (int c = 0; c < MUS_NCHORDS; c++) {
                uint16_t pcs = mus_chord_pcs(c);
                b->allowed[c] = (pcs & ~scale & 0xfff) == 0;
                /* how likely the chord's tones are chord tones, on average, centred */
                float in = 0;
                for (int i = 0; i < 12; i++) in += (float)(pcs >> i & 1) * tones[i];
                b->bias[c] = follow * (in / (float)mus_popcount16(pcs) - 0.5f);
            }
            mus_probs(logits + mus_head_offset(MUS_HEAD_CHORD), MUS_NCHORDS, ctl->temperature, b->bias, b->allowed,
                      b->probs);
            f.chord = (uint16_t)mus_pick(b->probs, MUS_NCHORDS, ctl->top_p, ctl->temperature <= MUS_GREEDY_TEMPERATURE, rng);
        }
    }
    int lead_may = (ctl->parts >> MUS_LEAD & 1) &&
                   (role != MUS_ROLE_LEAD || ctl->answer == MUS_ANSWER_ALWAYS ||
                    (ctl->answer && b->human_quiet >= MUS_STEPS_PER_BEAT));
    if (lead_may) {
        int prev = role == MUS_ROLE_LEAD && b->last_band.lead == MUS_TOK_REST ? MUS_TOK_REST : b->last_band.lead;
        f.lead = (uint8_t)pick_mono(b, logits + mus_head_offset(MUS_HEAD_LEAD), MUS_LEAD_LOW, db, scale, ctl, prev,
                                    rng, role == MUS_ROLE_LEAD || b->mem.count > 0, 0, 0, ctl->lead_bias);
        int p = mus_mono_pitch(f.lead, MUS_LEAD_LOW);
        if (p >= 0) line_push(b, p);
    }
    b->last_band = f;
    return f;
}

static int emit(bm_event *out, int n, int max, int type, int mus_part, const uint8_t *channel, int note, int vel,
                double beat)
{
    if (n >= max || note < 0 || note > 127) return n;
    bm_event *e = &out[n];
    memset(e, 0, sizeof *e);
    e->type = (uint8_t)type;
    e->part = (uint8_t)(mus_part + 1);
    e->channel = channel[mus_part + 1];
    e->note = (uint8_t)note;
    e->velocity = (uint8_t)(vel < 1 ? 1 : vel > 127 ? 127 : vel);
    e->flags = BM_EVF_BEAT;
    e->beat = beat;
    return n + 1;
}

int mus_band_release(mus_band *b, double beat, const uint8_t *channel, bm_event *out, int max)
{
    int n = 0;
    if (b->bass_note >= 0) n = emit(out, n, max, BM_EV_NOTE_OFF, MUS_BASS, channel, b->bass_note, 0, beat);
    if (b->lead_note >= 0) n = emit(out, n, max, BM_EV_NOTE_OFF, MUS_LEAD, channel, b->lead_note, 0, beat);
    for (int i = 0; i < b->ncomp; i++) n = emit(out, n, max, BM_EV_NOTE_OFF, MUS_COMP, channel, b->comp[i], 0, beat);
    b->bass_note = b->lead_note = -1;
    b->ncomp = 0;
    return n;
}

int mus_band_perform(mus_band *b, const mus_band_ctl *ctl, const mus_frame *f, double beat, const uint8_t *channel,
                     bm_event *out, int max)
{
    int n = 0;
    double at = mus_swing(beat, ctl->swing);
    double pos = beat - floor(beat);
    int strong = pos < 1e-6;
    /* bass */
    if (f->bass != MUS_TOK_HOLD || b->bass_note < 0) {
        if (b->bass_note >= 0) n = emit(out, n, max, BM_EV_NOTE_OFF, MUS_BASS, channel, b->bass_note, 0, at);
        b->bass_note = -1;
        int p = mus_mono_pitch(f->bass, MUS_BASS_LOW);
        if (p >= 0) {
            n = emit(out, n, max, BM_EV_NOTE_ON, MUS_BASS, channel, p, strong ? 96 : 84, at);
            b->bass_note = p;
        }
    }
    /* comping */
    if (f->comp != MUS_COMP_HOLD || !b->ncomp) {
        for (int i = 0; i < b->ncomp; i++) n = emit(out, n, max, BM_EV_NOTE_OFF, MUS_COMP, channel, b->comp[i], 0, at);
        b->ncomp = 0;
        if (f->comp >= MUS_COMP_SOFT) {
            int avoid = b->bass_note >= 0 ? b->bass_note % 12 : -1;
            uint8_t notes[MUS_VOICES_MAX];
            int k = mus_voice_chord(&b->voicing, f->chord, avoid, notes);
            int vel = f->comp == MUS_COMP_LOUD ? 92 : 66;
            for (int i = 0; i < k; i++) {
                n = emit(out, n, max, BM_EV_NOTE_ON, MUS_COMP, channel, notes[i], vel, at);
                b->comp[b->ncomp++] = notes[i];
            }
        }
    }
    /* lead */
    if (f->lead != MUS_TOK_HOLD || b->lead_note < 0) {
        if (b->lead_note >= 0) n = emit(out, n, max, BM_EV_NOTE_OFF, MUS_LEAD, channel, b->lead_note, 0, at);
        b->lead_note = -1;
        int p = mus_mono_pitch(f->lead, MUS_LEAD_LOW);
        if (p >= 0) {
            n = emit(out, n, max, BM_EV_NOTE_ON, MUS_LEAD, channel, p, strong ? 92 : 82, at);
            b->lead_note = p;
        }
    }
    /* drums: one-shots, released a 32nd later */
    for (int piece = 0; piece < MUS_NPIECES; piece++)
        for (int c = MUS_NVEL - 1; c >= 0; c--)
            if (f->drums >> (piece * MUS_NVEL + c) & 1) {
                int note = mus_drum_note(piece);
                n = emit(out, n, max, BM_EV_NOTE_ON, MUS_DRUMS, channel, note, mus_class_velocity(c), at);
                n = emit(out, n, max, BM_EV_NOTE_OFF, MUS_DRUMS, channel, note, 0, at + 0.125);
                break;
            }
    return n;
}

int mus_band_comp_notes(const mus_band *b, uint8_t *notes)
{
    memcpy(notes, b->comp, (size_t)b->ncomp);
    return b->ncomp;
}
