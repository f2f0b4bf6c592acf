/* cmd_voice_model.c: `bandmate voice train-model`: trains the timbre autoencoder on the voice data
 * set (make voices runs it; docs/voices.md). */
#include "engine/voice/commands.h"
#include "engine/voice/audio_file.h"
#include "engine/voice/baseline.h"
#include "engine/voice/resynth.h"
#include "engine/voice/specdist.h"
#include "engine/voice/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_int(const char *cmd, const char *opt, const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < lo || v > hi) {
        fprintf(stderr, "bandmate voice %s: %s needs a whole number %d..%d, not '%s'.\n", cmd, opt, lo, hi, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_float(const char *cmd, const char *opt, const char *s, double lo, double hi, float *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "bandmate voice %s: %s needs a number %g..%g, not '%s'.\n", cmd, opt, lo, hi, s);
        return -1;
    }
    *out = (float)v;
    return 0;
}

int cmd_voice_train_model(int argc, char **argv)
{
    voice_train_opts o;
    voice_train_defaults(&o);
    o.data_dir = "voicedata/features";
    o.out_path = "voices/decoder.bmnn";
    char cmdline[2048] = "bandmate voice";
    for (int i = 0; i < argc; i++) {
        size_t len = strlen(cmdline);
        snprintf(cmdline + len, sizeof cmdline - len, " %s", argv[i]);
    }
    o.command_line = cmdline;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!v && strcmp(a, "--quiet")) {
            fprintf(stderr, "bandmate voice train-model: '%s' needs a value, or is not an option; 'bandmate voice --help' lists them.\n", a);
            return 2;
        }
        if (!strcmp(a, "--data")) o.data_dir = v;
        else if (!strcmp(a, "--out")) o.out_path = v;
        else if (!strcmp(a, "--checkpoint")) o.checkpoint = v;
        else if (!strcmp(a, "--data-sha256")) o.data_sha256 = v;
        else if (!strcmp(a, "--epochs")) rc = parse_int("train-model", a, v, 1, 100000, &o.epochs);
        else if (!strcmp(a, "--rows")) rc = parse_int("train-model", a, v, 1, 4096, &o.rows);
        else if (!strcmp(a, "--frames")) rc = parse_int("train-model", a, v, 16, 4096, &o.T);
        else if (!strcmp(a, "--context")) rc = parse_int("train-model", a, v, 1, 1024, &o.ctx);
        else if (!strcmp(a, "--zdim")) rc = parse_int("train-model", a, v, 4, VOICE_ZDIM_MAX, &o.model.zdim);
        else if (!strcmp(a, "--gru")) rc = parse_int("train-model", a, v, 4, 1024, &o.model.dec_gru);
        else if (!strcmp(a, "--hidden")) rc = parse_int("train-model", a, v, 4, 1024, &o.model.dec_hidden);
        else if (!strcmp(a, "--dec-in")) rc = parse_int("train-model", a, v, 4, 1024, &o.model.dec_in);
        else if (!strcmp(a, "--threads")) rc = parse_int("train-model", a, v, 1, 256, &o.threads);
        else if (!strcmp(a, "--notes-per-instrument")) rc = parse_int("train-model", a, v, 0, 1000000, &o.max_notes_per_inst);
        else if (!strcmp(a, "--lr")) rc = parse_float("train-model", a, v, 1e-6, 1, &o.lr);
        else if (!strcmp(a, "--noise-weight")) rc = parse_float("train-model", a, v, 0, 100, &o.noise_weight);
        else if (!strcmp(a, "--loud-weight")) rc = parse_float("train-model", a, v, 0, 100, &o.loud_weight);
        else if (!strcmp(a, "--self-context")) rc = parse_float("train-model", a, v, 0, 1, &o.self_ctx);
        else if (!strcmp(a, "--pitch-jitter")) rc = parse_float("train-model", a, v, 0, 12, &o.pitch_jitter);
        else if (!strcmp(a, "--augment")) rc = parse_float("train-model", a, v, 0, 1, &o.augment);
        else if (!strcmp(a, "--z-noise")) rc = parse_float("train-model", a, v, 0, 10, &o.z_noise);
        else if (!strcmp(a, "--seed")) {
            int s;
            rc = parse_int("train-model", a, v, 0, 1 << 30, &s);
            o.seed = (uint64_t)s;
        } else if (!strcmp(a, "--quiet")) {
            o.quiet = 1;
            continue;
        } else {
            fprintf(stderr, "bandmate voice train-model: '%s' is not an option; 'bandmate voice --help' lists them.\n", a);
            return 2;
        }
        if (rc) return 2;
        i++;
    }
    char err[1024];
    if (voice_train(&o, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice train-model: %s.\n", err);
        return 1;
    }
    return 0;
}

/* `bandmate voice decode FEATURES NOTE PREFIX [--decoder FILE]`: one held-out note through the
 * decoder (its own frames placed), beside the original, the analysis resynthesised and the
 * baseline, as WAV files with their distances per FFT size: for listening and for finding where a
 * model loses. */
int cmd_voice_decode(int argc, char **argv)
{
    const char *decoder = "voices/decoder.bmnn";
    const char *pos[3];
    int np = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--decoder") && i + 1 < argc) decoder = argv[++i];
        else if (np < 3) pos[np++] = argv[i];
        else {
            fprintf(stderr, "bandmate voice decode: unexpected '%s'.\n", argv[i]);
            return 2;
        }
    }
    if (np < 3) {
        fprintf(stderr, "usage: bandmate voice decode FEATURES NOTE PREFIX [--decoder FILE]\n");
        return 2;
    }
    char err[512];
    voice_model vm;
    if (voice_model_load(&vm, decoder, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice decode: %s.\n", err);
        return 1;
    }
    voice_set *set;
    if (voice_features_read_file(pos[0], &set, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice decode: %s.\n", err);
        voice_model_free(&vm);
        return 1;
    }
    int rc = 1;
    long idx = strtol(pos[1], NULL, 10), seen = -1;
    const voice_note *nt = NULL;
    for (size_t i = 0; i < set->n_notes && !nt; i++)
        if (set->notes[i].n_audio && ++seen == idx) nt = &set->notes[i];
    if (!nt) {
        fprintf(stderr, "bandmate voice decode: %s has no held-out note %ld.\n", pos[0], idx);
        goto done;
    }
    int sr = nt->sample_rate;
    voice_timbre_avg avg;
    voice_timbre_avg_init(&avg);
    for (size_t i = 0; i < set->n_notes; i++)
        if (set->notes[i].split == VOICE_SPLIT_TRAIN || nt->split == VOICE_SPLIT_INSTRUMENT)
            voice_timbre_avg_add(&avg, set->notes[i].frames, set->notes[i].n_frames, sr);
    voice_timbre_avg_finish(&avg);
    float *y = malloc(nt->n_audio * sizeof *y);
    voice_frame *fr = malloc(nt->n_frames * sizeof *fr);
    if (!y || !fr) goto done2;
    printf("%s note %ld: %s pitch %d velocity %d length %.1f s (%s)\n", pos[0], idx, nt->instrument, nt->pitch,
           nt->velocity, nt->length_s, voice_split_name(nt->split));
    char path[4096];
    snprintf(path, sizeof path, "%s-original.wav", pos[2]);
    if (voice_audio_write(path, nt->audio, nt->n_audio, sr, 1, err, sizeof err) != 0) goto fail;
    for (int pass = 0; pass < 3; pass++) {
        static const char *what[3] = {"resynth", "decoded", "baseline"};
        if (pass == 0) memcpy(fr, nt->frames, nt->n_frames * sizeof *fr);
        else if (pass == 1) {
            float z[VOICE_ZDIM_MAX];
            voice_model_place(&vm, nt->frames, nt->n_frames, sr, z, NULL);
            if (voice_model_decode(&vm, z, nt->frames, nt->n_frames, sr, fr, err, sizeof err) != 0) goto fail;
        } else voice_timbre_avg_frames(&avg, nt->frames, nt->n_frames, sr, fr);
        if (voice_resynth(fr, nt->n_frames, sr, 1, y, nt->n_audio) != 0) goto done2;
        double per[VOICE_MSD_SCALES];
        double d = voice_msd(nt->audio, y, nt->n_audio, per);
        snprintf(path, sizeof path, "%s-%s.wav", pos[2], what[pass]);
        if (voice_audio_write(path, y, nt->n_audio, sr, 1, err, sizeof err) != 0) goto fail;
        printf("%-9s %.2f dB (", what[pass], d);
        for (int k = 0; k < VOICE_MSD_SCALES; k++) printf("%s%d: %.2f", k ? ", " : "", voice_msd_sizes[k], per[k]);
        printf(")\n");
    }
    rc = 0;
    goto done2;
fail:
    fprintf(stderr, "bandmate voice decode: %s.\n", err);
done2:
    free(y);
    free(fr);
done:
    voice_set_free(set);
    voice_model_free(&vm);
    return rc;
}
