/* mus_lead.c: the band's lead in the performance modes (accompany, call and response, duet). */
#include "engine/musician/mus_lead.h"
#include "engine/musician/mus_vocab.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Biases (nats) on the lead's tokens. */
#define FORBID -30.0f
#define ANSWER_ON_RHYTHM 1.5f    /* an onset where the call had one */
#define ANSWER_OFF_RHYTHM -1.0f  /* an onset where it had none */
#define OUT_OF_KEY -2.5f
#define OUT_OF_CALL -1.5f        /* a pitch class the call did not use (no key heard yet) */
#define DUET_CONSONANT 1.2f      /* thirds and sixths against the performer's note */
#define DUET_PERFECT 0.4f        /* fifths and octaves */
#define DUET_DISSONANT -3.0f     /* seconds, sevenths, the tritone */
#define DUET_TOO_CLOSE -4.0f     /* within a whole tone */
#define DUET_UNISON -8.0f
#define DUET_WRONG_SIDE -3.0f    /* crossing into the performer's register */

void mus_lead_reset(mus_lead *l)
{
    int mode = l->mode;
    memset(l, 0, sizeof *l);
    l->mode = mode;
    l->last_note = -1;
    l->call_start = -1;
}

int mus_lead_mode_from_name(const char *name)
{
    if (!strcmp(name, "accompany")) return MUS_LEAD_ACCOMPANY;
    if (!strcmp(name, "call-and-response")) return MUS_LEAD_CALL_RESPONSE;
    if (!strcmp(name, "duet")) return MUS_LEAD_DUET;
    return -1;
}

void mus_lead_set_mode(mus_lead *l, int mode)
{
    if (mode == l->mode) return;
    l->mode = mode;
    l->release = 1;
    l->answering = 0;
    l->call_start = -1; /* a call starts with the performer's next note */
}

void mus_lead_hear(mus_lead *l, const bm_event *ev)
{
    if (ev->type == BM_EV_NOTE_ON && ev->velocity > 0) {
        if (l->answering) { /* the performer is back: the answer yields */
            l->answering = 0;
            l->yields++;
        }
        if (l->held[ev->note] < 255) {
            l->held[ev->note]++;
            l->nheld++;
        }
        l->last_note = ev->note;
        l->mean_pitch = l->mean_pitch > 0 ? 0.9f * l->mean_pitch + 0.1f * ev->note : ev->note;
        l->onset_this_step = 1;
        if (l->call_start < 0) {
            l->call_start = ev->beat;
            l->call_end = ev->beat;
            l->call_notes = 0;
            l->call_ended = 0;
            l->call_pcs = 0;
            memset(l->rhythm, 0, sizeof l->rhythm);
        }
        long j = lround((ev->beat - l->call_start) * MUS_STEPS_PER_BEAT);
        if (j >= 0 && j < MUS_CALL_STEPS) l->rhythm[j] = 1;
        l->call_notes++;
        l->call_pcs |= (uint16_t)(1u << (ev->note % 12));
        if (ev->beat > l->call_end) l->call_end = ev->beat;
    } else if (ev->type == BM_EV_NOTE_OFF || ev->type == BM_EV_NOTE_ON) {
        if (l->held[ev->note]) {
            l->held[ev->note]--;
            l->nheld--;
        }
        if (l->call_start >= 0 && ev->beat > l->call_end) l->call_end = ev->beat;
    } else if (ev->type == BM_EV_PHRASE_END) {
        /* the listener's end (a rest, a bar line, the end-of-call control) of a phrase that holds
         * the call heard so far */
        if (l->call_start >= 0 && l->call_notes > 0 && ev->beat >= l->call_start - 1e-6) {
            l->call_ended = 1;
            if (ev->beat > l->call_end) l->call_end = ev->beat;
        }
    }
}

static int highest_held(const mus_lead *l)
{
    if (!l->nheld) return -1;
    for (int n = 127; n >= 0; n--)
        if (l->held[n]) return n;
    return -1;
}

static void answer_bias(mus_lead *l, int64_t k, uint16_t key_pcs)
{
    int64_t j = k - l->answer_k0;
    int on = j >= 0 && j < MUS_CALL_STEPS && l->rhythm[j];
    l->bias[MUS_TOK_REST] = l->bias[MUS_TOK_HOLD] = j == 0 ? FORBID : 0; /* the answer starts now */
    for (int t = 2; t < MUS_MONO_VOCAB; t++) {
        int p = mus_mono_pitch(t, MUS_LEAD_LOW);
        float b = j == 0 ? 0 : on ? ANSWER_ON_RHYTHM : ANSWER_OFF_RHYTHM;
        if (key_pcs) {
            if (!(key_pcs >> (p % 12) & 1)) b += OUT_OF_KEY;
        } else if (l->call_pcs && !(l->call_pcs >> (p % 12) & 1)) {
            b += OUT_OF_CALL;
        }
        float d = fabsf((float)p - l->mean_pitch); /* near the call's register */
        if (l->mean_pitch > 0 && d > 9) b -= 0.2f * (d - 9);
        l->bias[t] = b;
    }
}

static void duet_bias(mus_lead *l, uint16_t key_pcs)
{
    int h = highest_held(l);
    if (h < 0) h = l->last_note; /* between their notes, the last one still rings in the ear */
    float ref = h >= 0 ? (float)h : 0;
    int below = ref >= 67; /* a high performer gets a line below, a low one a line above */
    /* rhythmically complementary: busier while the performer holds or rests */
    float onset = 1.0f - 3.0f * l->busy;
    l->bias[MUS_TOK_REST] = l->bias[MUS_TOK_HOLD] = 0;
    for (int t = 2; t < MUS_MONO_VOCAB; t++) {
        int p = mus_mono_pitch(t, MUS_LEAD_LOW);
        float b = onset;
        if (h >= 0) {
            int ad = abs(p - h);
            if (ad == 0) b += DUET_UNISON;
            else if (ad < 3) b += DUET_TOO_CLOSE;
            else switch (ad % 12) {
                case 3: case 4: case 8: case 9: b += DUET_CONSONANT; break;
                case 0: case 7: b += DUET_PERFECT; break;
                case 5: break;
                default: b += DUET_DISSONANT; break;
                }
        }
        if (ref > 0) {
            if (below ? (float)p > ref - 2 : (float)p < ref + 2) b += DUET_WRONG_SIDE;
            float d = fabsf((float)p - ref);
            if (d > 16) b -= 0.2f * (d - 16);
        }
        if (key_pcs && !(key_pcs >> (p % 12) & 1)) b += OUT_OF_KEY;
        l->bias[t] = b;
    }
}

void mus_lead_steer(mus_lead *l, mus_band_ctl *ctl, int64_t k, int bpb, uint16_t key_pcs)
{
    double beat = (double)k / MUS_STEPS_PER_BEAT;
    l->busy = 0.8f * l->busy + 0.2f * (float)l->onset_this_step;
    l->onset_this_step = 0;
    ctl->lead_bias = NULL;
    unsigned lead = 1u << MUS_LEAD;
    switch (l->mode) {
    case MUS_LEAD_CALL_RESPONSE: {
        double rest = MUS_CALL_REST;
        if (l->bpm > 0 && MUS_CALL_REST_S * l->bpm / 60 < rest) rest = MUS_CALL_REST_S * l->bpm / 60;
        int ended = l->call_start >= 0 && l->call_notes > 0 &&
                    (l->call_ended || (l->nheld == 0 && beat - l->call_end >= rest - 1e-9));
        if (ended && !l->release) {
            int64_t len = llround((l->call_end - l->call_start) * MUS_STEPS_PER_BEAT);
            int64_t most = (int64_t)MUS_ANSWER_MAX_BARS * (bpb > 0 ? bpb : 4) * MUS_STEPS_PER_BEAT;
            if (len < MUS_STEPS_PER_BEAT) len = MUS_STEPS_PER_BEAT;
            if (len > most) len = most;
            l->answering = 1;
            l->answer_k0 = k;
            l->answer_k1 = k + len;
            l->answers++;
            l->last_call_end = l->call_end;
            l->call_start = -1;
        }
        if (l->answering && k >= l->answer_k1) l->answering = 0;
        if (l->answering) {
            ctl->parts |= lead;
            ctl->answer = MUS_ANSWER_ALWAYS;
            if (ctl->memory < 0.5f) ctl->memory = 0.5f; /* the call's own contour */
            answer_bias(l, k, key_pcs);
            ctl->lead_bias = l->bias;
        } else {
            ctl->parts &= ~lead; /* the lead listens */
        }
        break;
    }
    case MUS_LEAD_DUET:
        ctl->parts |= lead;
        ctl->answer = MUS_ANSWER_ALWAYS;
        ctl->memory = 0; /* a line of its own, not the performer's */
        duet_bias(l, key_pcs);
        ctl->lead_bias = l->bias;
        break;
    default:
        ctl->answer = 0; /* the band's lead stays out while the performer is the lead */
        break;
    }
    if (l->release) { /* a mode change: the lead rests a step, releasing what it sounded */
        ctl->parts &= ~lead;
        l->release = 0;
    }
}
