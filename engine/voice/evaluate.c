/* evaluate.c: resynthesis distance, the average-spectrum baseline and data-set checks. */
#include "engine/voice/evaluate.h"
#include "engine/util.h"
#include "engine/voice/baseline.h"
#include "engine/voice/resynth.h"
#include "engine/voice/specdist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int voice_eval_frames(voice_analyser *a, const float *x, size_t n, const voice_frame *ref,
                      size_t nref, const voice_frame *test, size_t ntest,
                      const voice_analysis_opts *o, voice_eval_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    const int sr = voice_analyser_rate(a);
    float *y = malloc((n ? n : 1) * sizeof *y);
    double *cents = malloc((nref ? nref : 1) * sizeof *cents);
    voice_frame *re = NULL;
    size_t nre = 0;
    int rc = -1;
    if (!y || !cents || voice_resynth(test, ntest, sr, 1, y, n) != 0 ||
        (r->msd_db = voice_msd(x, y, n, NULL)) < 0.0) {
        bm_errf(err, errlen, "out of memory");
        goto done;
    }
    if (voice_analyse(a, y, n, o, &re, &nre, err, errlen) != 0) goto done;
    float loudest = VOICE_FLOOR_DB;
    for (size_t k = 0; k < nref; k++)
        if (ref[k].loudness_db > loudest) loudest = ref[k].loudness_db;
    size_t nc = 0;
    double lsum = 0.0;
    for (size_t k = 0; k < nref && k < nre; k++) {
        if ((ref[k].flags & VOICE_VOICED) && (re[k].flags & VOICE_VOICED))
            cents[nc++] = fabs(1200.0 * log2((double)re[k].f0_hz / ref[k].f0_hz));
        if (ref[k].loudness_db >= loudest - 40.0f) {
            lsum += fabs((double)re[k].loudness_db - ref[k].loudness_db);
            r->loud_frames++;
        }
    }
    if (nc) {
        qsort(cents, nc, sizeof *cents, cmp_double);
        r->f0_cents = cents[nc / 2];
    }
    r->f0_frames = nc;
    r->loud_db = r->loud_frames ? lsum / (double)r->loud_frames : 0.0;
    rc = 0;
done:
    free(y);
    free(cents);
    free(re);
    return rc;
}

static voice_analysis_opts note_opts(const voice_note *nt)
{
    voice_analysis_opts o;
    voice_analysis_defaults(&o);
    if (nt->pitch >= 0) o.f0_hint_hz = (float)(440.0 * exp2((nt->pitch - 69) / 12.0));
    o.onsets = nt->split == VOICE_SPLIT_RECORDING ? VOICE_ONSETS_DETECT : VOICE_ONSETS_AT_START;
    return o;
}

int voice_eval_file(const char *path, size_t max_notes, voice_eval_summary *s, char *err,
                    size_t errlen)
{
    memset(s, 0, sizeof *s);
    voice_set *set;
    if (voice_features_read_file(path, &set, err, errlen) != 0) return -1;
    int rc = -1;
    voice_analyser *a = NULL;
    voice_frame *base = NULL;
    size_t base_cap = 0;
    if (!set->n_notes) {
        bm_errf(err, errlen, "%s holds no notes", path);
        goto done;
    }
    snprintf(s->instrument, sizeof s->instrument, "%s", set->notes[0].instrument);
    int sr = set->notes[0].sample_rate;
    s->held_out = set->notes[0].split == VOICE_SPLIT_INSTRUMENT;
    /* the baseline's average spectrum */
    voice_timbre_avg avg;
    voice_timbre_avg_init(&avg);
    size_t n_test = 0;
    for (size_t i = 0; i < set->n_notes; i++) {
        const voice_note *nt = &set->notes[i];
        if (nt->sample_rate != sr) {
            bm_errf(err, errlen, "%s mixes sample rates (%d and %d Hz)", path, sr, nt->sample_rate);
            goto done;
        }
        if (nt->split == VOICE_SPLIT_TRAIN || s->held_out)
            voice_timbre_avg_add(&avg, nt->frames, nt->n_frames, sr);
        if (nt->split != VOICE_SPLIT_TRAIN && nt->n_audio) n_test++;
    }
    voice_timbre_avg_finish(&avg);
    s->baseline_frames = avg.frames;
    a = voice_analyser_new(sr, err, errlen);
    if (!a) goto done;
    size_t want = max_notes && max_notes < n_test ? max_notes : n_test, seen = 0;
    for (size_t i = 0; i < set->n_notes && s->notes < want; i++) {
        const voice_note *nt = &set->notes[i];
        if (nt->split == VOICE_SPLIT_TRAIN || !nt->n_audio) continue;
        /* spread the evaluated notes evenly over the held-out ones */
        size_t idx = seen++;
        if ((idx + 1) * want / n_test == idx * want / n_test) continue;
        voice_analysis_opts o = note_opts(nt);
        voice_eval_result r, rb;
        if (voice_eval_frames(a, nt->audio, nt->n_audio, nt->frames, nt->n_frames, nt->frames,
                              nt->n_frames, &o, &r, err, errlen) != 0)
            goto done;
        if (nt->n_frames > base_cap) {
            voice_frame *grown = realloc(base, nt->n_frames * sizeof *base);
            if (!grown) {
                bm_errf(err, errlen, "out of memory");
                goto done;
            }
            base = grown;
            base_cap = nt->n_frames;
        }
        voice_timbre_avg_frames(&avg, nt->frames, nt->n_frames, sr, base);
        if (voice_eval_frames(a, nt->audio, nt->n_audio, nt->frames, nt->n_frames, base,
                              nt->n_frames, &o, &rb, err, errlen) != 0)
            goto done;
        s->resynth_msd += r.msd_db;
        s->resynth_f0_cents += r.f0_cents;
        s->resynth_loud_db += r.loud_db;
        s->baseline_msd += rb.msd_db;
        s->baseline_f0_cents += rb.f0_cents;
        s->baseline_loud_db += rb.loud_db;
        s->notes++;
    }
    if (s->notes) {
        double k = 1.0 / (double)s->notes;
        s->resynth_msd *= k;
        s->resynth_f0_cents *= k;
        s->resynth_loud_db *= k;
        s->baseline_msd *= k;
        s->baseline_f0_cents *= k;
        s->baseline_loud_db *= k;
    }
    rc = 0;
done:
    free(base);
    voice_analyser_free(a);
    voice_set_free(set);
    return rc;
}

int voice_report_file(const char *path, FILE *f, int header, char *err, size_t errlen)
{
    voice_set *set;
    if (voice_features_read_file(path, &set, err, errlen) != 0) return -1;
    int rc = -1;
    voice_analyser *a = NULL;
    double *dev = NULL;
    size_t split_n[VOICE_SPLIT_COUNT] = {0}, frames = 0, clipped_notes = 0, silent_notes = 0;
    size_t loud_frames = 0, voiced = 0, nd = 0, dev_cap = 0;
    size_t nh_frames = 0, nh_match = 0, nh_octave = 0;
    double peak = 0.0;
    if (!set->n_notes) {
        bm_errf(err, errlen, "%s holds no notes", path);
        goto done;
    }
    int sr = set->notes[0].sample_rate;
    a = voice_analyser_new(sr, err, errlen);
    if (!a) goto done;
    for (size_t i = 0; i < set->n_notes; i++) {
        const voice_note *nt = &set->notes[i];
        split_n[nt->split]++;
        frames += nt->n_frames;
        if (nt->peak > peak) peak = nt->peak;
        if (nt->peak >= 0.999f) clipped_notes++;
        if (nt->peak < 1e-3f) silent_notes++;
        if (nt->pitch < 0) continue;
        double midi_hz = 440.0 * exp2((nt->pitch - 69) / 12.0);
        float loudest = VOICE_FLOOR_DB;
        for (size_t k = 0; k < nt->n_frames; k++)
            if (nt->frames[k].loudness_db > loudest) loudest = nt->frames[k].loudness_db;
        if (nd + nt->n_frames > dev_cap) {
            dev_cap = 2 * (nd + nt->n_frames);
            double *grown = realloc(dev, dev_cap * sizeof *dev);
            if (!grown) {
                bm_errf(err, errlen, "out of memory");
                goto done;
            }
            dev = grown;
        }
        for (size_t k = 0; k < nt->n_frames; k++) {
            const voice_frame *fr = &nt->frames[k];
            if (fr->loudness_db < loudest - 30.0f) continue;
            loud_frames++;
            if (fr->flags & VOICE_VOICED) {
                voiced++;
                dev[nd++] = 1200.0 * log2(fr->f0_hz / midi_hz);
            }
        }
        if (!nt->n_audio || nt->sample_rate != sr) continue;
        /* the same audio without the pitch hint: does the tracker find the MIDI pitch alone? */
        voice_analysis_opts o;
        voice_analysis_defaults(&o);
        o.onsets = VOICE_ONSETS_AT_START;
        voice_frame *un;
        size_t nun;
        if (voice_analyse(a, nt->audio, nt->n_audio, &o, &un, &nun, err, errlen) != 0) goto done;
        for (size_t k = 0; k < nun && k < nt->n_frames; k++) {
            if (nt->frames[k].loudness_db < loudest - 30.0f) continue;
            nh_frames++;
            if (!(un[k].flags & VOICE_VOICED)) continue;
            double c = 1200.0 * log2(un[k].f0_hz / midi_hz);
            if (fabs(c) <= 50.0) nh_match++;
            else if (fabs(fabs(c) - 1200.0) <= 50.0 || fabs(fabs(c) - 2400.0) <= 50.0) nh_octave++;
        }
        free(un);
    }
    qsort(dev, nd, sizeof *dev, cmp_double);
    if (header)
        fprintf(f, "%-24s %5s %5s %5s %5s %5s %8s %7s %4s %4s %7s %8s %8s %7s %7s\n", "instrument",
                "notes", "train", "pitch", "vel", "inst", "frames", "peak", "clip", "sil",
                "voiced", "f0-med", "f0-p95", "nohint", "octave");
    fprintf(f, "%-24.24s %5zu %5zu %5zu %5zu %5zu %8zu %+6.1fdB %4zu %4zu %6.1f%% %+6.1fct %6.1fct %6.1f%% %6.1f%%\n",
            set->notes[0].instrument, set->n_notes, split_n[VOICE_SPLIT_TRAIN],
            split_n[VOICE_SPLIT_PITCH], split_n[VOICE_SPLIT_VELOCITY],
            split_n[VOICE_SPLIT_INSTRUMENT], frames, 20.0 * log10(peak + 1e-12), clipped_notes,
            silent_notes, loud_frames ? 100.0 * voiced / loud_frames : 0.0,
            nd ? dev[nd / 2] : 0.0, nd ? fmax(fabs(dev[nd / 20]), fabs(dev[nd - 1 - nd / 20])) : 0.0,
            nh_frames ? 100.0 * nh_match / nh_frames : 0.0,
            nh_frames ? 100.0 * nh_octave / nh_frames : 0.0);
    rc = 0;
done:
    free(dev);
    voice_analyser_free(a);
    voice_set_free(set);
    return rc;
}
