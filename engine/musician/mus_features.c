/* mus_features.c: one step's model inputs. */
#include "engine/musician/mus_features.h"

#include <string.h>

const int mus_id_vocab[MUS_N_IDS] = {MUS_NMETERS * MUS_MAX_BAR_STEPS, MUS_NSTYLES, MUS_MONO_VOCAB,
                                     MUS_MONO_VOCAB, MUS_NCHORDS + 1, MUS_NROLES};
const int mus_id_dim[MUS_N_IDS] = {16, 8, 16, 16, 16, 4};

static void bits(float *out, uint32_t set, int n)
{
    for (int i = 0; i < n; i++) out[i] = (float)(set >> i & 1);
}

void mus_features(const mus_step_in *in, int *ids, float *x)
{
    ids[MUS_ID_POSITION] = mus_position_id(in->beats_per_bar, in->step_in_bar);
    ids[MUS_ID_STYLE] = in->style >= 0 && in->style < MUS_NSTYLES ? in->style : 0;
    ids[MUS_ID_BASS] = in->last.bass < MUS_MONO_VOCAB ? in->last.bass : 0;
    ids[MUS_ID_LEAD] = in->last.lead < MUS_MONO_VOCAB ? in->last.lead : 0;
    ids[MUS_ID_CHORD] = in->last_chord >= 0 && in->last_chord <= MUS_NCHORDS ? in->last_chord : MUS_CHORD_NONE;
    ids[MUS_ID_ROLE] = in->role >= 0 && in->role < MUS_NROLES ? in->role : 0;
    float *p = x;
    memset(p, 0, sizeof(float) * MUS_COMP_RHYTHM_VOCAB);
    p[in->last.comp < MUS_COMP_RHYTHM_VOCAB ? in->last.comp : 0] = 1;
    p += MUS_COMP_RHYTHM_VOCAB;
    for (int i = 0; i < MUS_DRUM_UNITS; i++) p[i] = (float)(in->last.drums >> i & 1);
    p += MUS_DRUM_UNITS;
    /* the performer */
    const mus_hsum *h = &in->human;
    bits(p, h->onset_pcs, 12);
    bits(p + 12, h->sound_pcs, 12);
    p[24] = h->lo / 127.0f;
    p[25] = h->hi / 127.0f;
    p[26] = h->n_on >= 8 ? 1.0f : h->n_on / 8.0f;
    p[27] = h->n_on ? 1.0f : 0.0f;
    p[28] = h->vel / 127.0f;
    bits(p + 29, h->drums, 16);
    p += MUS_HUMAN_FEATURES;
    if (in->harmony) mus_harmony_features(in->harmony, p);
    else memset(p, 0, sizeof(float) * MUS_HARMONY_FEATURES);
    p += MUS_HARMONY_FEATURES;
    memset(p, 0, sizeof(float) * MUS_CHART_FEATURES);
    if (in->chart_root >= 0 && in->chart_root < 12) {
        p[0] = 1;
        p[1 + in->chart_root] = 1;
        bits(p + 13, in->chart_pcs, 12);
    }
    p += MUS_CHART_FEATURES;
    p[0] = in->density < 0 ? 0 : in->density > 1 ? 1 : in->density;
    p[1] = in->swing ? 1.0f : 0.0f;
}
