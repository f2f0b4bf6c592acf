/* eval_model.c: the decoder's resynthesis of held-out notes against the average-spectrum baseline. */
#include "engine/voice/eval_model.h"
#include "engine/voice/baseline.h"
#include "engine/voice/voicedef.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static voice_analysis_opts note_opts(const voice_note *nt)
{
    voice_analysis_opts o;
    voice_analysis_defaults(&o);
    if (nt->pitch >= 0) o.f0_hint_hz = (float)(440.0 * exp2((nt->pitch - 69) / 12.0));
    o.onsets = VOICE_ONSETS_AT_START;
    return o;
}

int voice_model_eval_file(const voice_model *vm, const char *path, size_t max_notes, voice_model_eval *r,
                          char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    voice_set *set;
    if (voice_features_read_file(path, &set, err, errlen) != 0) return -1;
    int rc = -1, Z = vm->cfg.zdim;
    voice_analyser *a = NULL;
    voice_frame *dec = NULL, *base = NULL;
    voice_def *def = NULL;
    const voice_note **use = NULL;
    size_t cap = 0;
    if (!set->n_notes) {
        snprintf(err, errlen, "%s holds no notes", path);
        goto done;
    }
    snprintf(r->instrument, sizeof r->instrument, "%s", set->notes[0].instrument);
    int sr = set->notes[0].sample_rate;
    r->held_out = set->notes[0].split == VOICE_SPLIT_INSTRUMENT;
    /* the baseline and the voice's placement from the same notes */
    voice_timbre_avg avg;
    voice_timbre_avg_init(&avg);
    double zsum[VOICE_ZDIM_MAX] = {0}, pitch_sum[128][VOICE_ZDIM_MAX];
    long zcount = 0, pitch_count[128];
    memset(pitch_sum, 0, sizeof pitch_sum);
    memset(pitch_count, 0, sizeof pitch_count);
    size_t n_test = 0;
    for (size_t i = 0; i < set->n_notes; i++) {
        const voice_note *nt = &set->notes[i];
        if (nt->sample_rate != sr) {
            snprintf(err, errlen, "%s mixes sample rates", path);
            goto done;
        }
        if (nt->split != VOICE_SPLIT_TRAIN && nt->n_audio) n_test++;
        if (nt->split != VOICE_SPLIT_TRAIN && !r->held_out) continue;
        voice_timbre_avg_add(&avg, nt->frames, nt->n_frames, sr);
        float s[VOICE_ZDIM_MAX];
        int used = voice_model_place(vm, nt->frames, nt->n_frames, sr, NULL, s);
        int p = nt->pitch >= 0 && nt->pitch < 128 ? nt->pitch : 0;
        for (int d = 0; d < Z; d++) {
            zsum[d] += s[d];
            pitch_sum[p][d] += s[d];
        }
        zcount += used;
        pitch_count[p] += used;
    }
    voice_timbre_avg_finish(&avg);
    /* the voice's path: from the training notes, or (held out) from the notes at other pitches */
    use = malloc(sizeof *use * set->n_notes);
    def = malloc(sizeof *def);
    if (!use || !def) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    int def_pitch = -2;
    a = voice_analyser_new(sr, err, errlen);
    if (!a) goto done;
    size_t want = max_notes && max_notes < n_test ? max_notes : n_test, seen = 0;
    for (size_t i = 0; i < set->n_notes && r->notes < want; i++) {
        const voice_note *nt = &set->notes[i];
        if (nt->split == VOICE_SPLIT_TRAIN || !nt->n_audio) continue;
        size_t idx = seen++;
        if ((idx + 1) * want / n_test == idx * want / n_test) continue;
        if (nt->n_frames > cap) {
            free(dec);
            free(base);
            cap = nt->n_frames;
            dec = malloc(cap * sizeof *dec);
            base = malloc(cap * sizeof *base);
            if (!dec || !base) {
                snprintf(err, errlen, "out of memory");
                goto done;
            }
        }
        voice_analysis_opts o = note_opts(nt);
        voice_eval_result res;
        /* the voice's point; a held-out instrument's leaves this note's pitch out */
        float z[VOICE_ZDIM_MAX];
        int p = nt->pitch >= 0 && nt->pitch < 128 ? nt->pitch : 0;
        long cnt = zcount - (r->held_out ? pitch_count[p] : 0);
        for (int d = 0; d < Z; d++)
            z[d] = cnt > 0 ? (float)((zsum[d] - (r->held_out ? pitch_sum[p][d] : 0)) / (double)cnt) : 0.0f;
        if (voice_model_decode(vm, z, nt->frames, nt->n_frames, sr, dec, err, errlen) != 0 ||
            voice_eval_frames(a, nt->audio, nt->n_audio, nt->frames, nt->n_frames, dec, nt->n_frames, &o, &res,
                              err, errlen) != 0)
            goto done;
        r->point_msd += res.msd_db;
        /* the voice's path at the note's pitch */
        int want_pitch = r->held_out ? nt->pitch : -1;
        if (want_pitch != def_pitch) {
            size_t nu = 0;
            for (size_t j = 0; j < set->n_notes; j++) {
                const voice_note *other = &set->notes[j];
                if (r->held_out ? other->pitch != nt->pitch : other->split == VOICE_SPLIT_TRAIN) use[nu++] = other;
            }
            if (voice_def_from_notes(vm, use, nu, "eval", NULL, def, err, errlen) != 0) goto done;
            def_pitch = want_pitch;
        }
        voice_def_z(def, (float)nt->pitch, z);
        if (voice_model_decode(vm, z, nt->frames, nt->n_frames, sr, dec, err, errlen) != 0 ||
            voice_eval_frames(a, nt->audio, nt->n_audio, nt->frames, nt->n_frames, dec, nt->n_frames, &o, &res,
                              err, errlen) != 0)
            goto done;
        r->voice_msd += res.msd_db;
        r->voice_f0_cents += res.f0_cents;
        r->voice_loud_db += res.loud_db;
        /* the note's own frames, placed */
        voice_model_place(vm, nt->frames, nt->n_frames, sr, z, NULL);
        if (voice_model_decode(vm, z, nt->frames, nt->n_frames, sr, dec, err, errlen) != 0 ||
            voice_eval_frames(a, nt->audio, nt->n_audio, nt->frames, nt->n_frames, dec, nt->n_frames, &o, &res,
                              err, errlen) != 0)
            goto done;
        r->self_msd += res.msd_db;
        r->self_f0_cents += res.f0_cents;
        r->self_loud_db += res.loud_db;
        voice_timbre_avg_frames(&avg, nt->frames, nt->n_frames, sr, base);
        if (voice_eval_frames(a, nt->audio, nt->n_audio, nt->frames, nt->n_frames, base, nt->n_frames, &o, &res,
                              err, errlen) != 0)
            goto done;
        r->base_msd += res.msd_db;
        r->base_f0_cents += res.f0_cents;
        r->base_loud_db += res.loud_db;
        r->notes++;
    }
    if (r->notes) {
        double n = (double)r->notes;
        r->voice_msd /= n;
        r->point_msd /= n;
        r->voice_f0_cents /= n;
        r->voice_loud_db /= n;
        r->self_msd /= n;
        r->self_f0_cents /= n;
        r->self_loud_db /= n;
        r->base_msd /= n;
        r->base_f0_cents /= n;
        r->base_loud_db /= n;
    }
    rc = 0;
done:
    free(use);
    free(def);
    free(dec);
    free(base);
    voice_analyser_free(a);
    voice_set_free(set);
    return rc;
}
