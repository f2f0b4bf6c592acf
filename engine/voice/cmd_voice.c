/* cmd_voice.c: `bandmate voice ...`: analyse a recording into voice features, and the steps that
 * build and check the voice data set (tools/voices/build.sh drives them). */
#include "engine/cli.h"
#include "engine/voice/analysis.h"
#include "engine/voice/audio_file.h"
#include "engine/voice/commands.h"
#include "engine/voice/baseline.h"
#include "engine/voice/dataset.h"
#include "engine/voice/evaluate.h"
#include "engine/voice/features.h"
#include "engine/voice/resynth.h"
#include "engine/voice/specdist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bandmate voice COMMAND [options]\n\n"
            "voices (docs/voices.md):\n"
            "  list [DIR]                           the voices found and where they lie in the map\n"
            "  render VOICE --out OUT.wav|.ogg|.flac [--mid FILE] [--pitch P] [--sweep] [--rate HZ]\n"
            "        [--write-mid FILE --program N]  play a phrase (or a MIDI file) in a voice or a\n"
            "                                       morph (\"strings,flute@0.3\"); --sweep moves the\n"
            "                                       morph to its last voice over the phrase\n"
            "  train --wav RECORDING --name NAME [--out DIR] [--force]\n"
            "                                       a voice from 30 s or more of a performer's own\n"
            "                                       monophonic playing, placed by the encoder\n"
            "  place FEATURES --name NAME [--out DIR] [--decoder FILE]\n"
            "                                       a voice from a data-set instrument's notes\n"
            "  train-model [--data DIR] [--out FILE] [--checkpoint FILE] [--epochs N] ...\n"
            "                                       train the timbre autoencoder (make voices)\n"
            "  decode FEATURES NOTE PREFIX [--decoder FILE]\n"
            "                                       a held-out note through the decoder, beside the\n"
            "                                       original, its analysis and the baseline, to WAV\n\n"
            "analysis:\n"
            "  analyse IN.wav [--out FEATURES] [--resynth OUT.wav] [--pitch MIDI] [--frames]\n"
            "        analyse a monophonic recording frame by frame (f0, loudness, harmonics,\n"
            "        noise bands, onsets) and print a summary; --out writes the features,\n"
            "        --resynth renders them back to audio, --pitch names the expected MIDI\n"
            "        pitch, --frames prints every frame as a tab-separated row\n\n"
            "the voice data set (make voices-data; docs/voices-data.md):\n"
            "  data-plan TABLE                      list the instruments and their note counts\n"
            "  data-midi TABLE PROGRAM OUT.mid      the MIDI file fluidsynth renders\n"
            "  data-analyse TABLE PROGRAM IN.wav OUT.bmvf\n"
            "                                       slice a rendering into notes and analyse them\n"
            "  data-report FEATURES...              levels, clipping, pitch tracking per instrument\n"
            "  data-eval [--max-notes N] FEATURES...\n"
            "                                       resynthesis distance and the average-spectrum\n"
            "                                       baseline on the held-out notes\n"
            "  data-listen FEATURES NOTE PREFIX     write a held-out note's original, resynthesis\n"
            "                                       and baseline as PREFIX-{original,resynth,\n"
            "                                       baseline}.wav, and print their distances\n");
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static const char *note_name(double midi, char *buf, size_t len)
{
    static const char *names[] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
    long m = lround(midi), cents = lround(100.0 * (midi - (double)m));
    snprintf(buf, len, "%s%ld %+ld cents", names[((m % 12) + 12) % 12], m / 12 - 1, cents);
    return buf;
}

static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

static int cmd_analyse(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *resynth = NULL;
    int pitch = -1, frames_text = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--resynth") && i + 1 < argc) resynth = argv[++i];
        else if (!strcmp(argv[i], "--pitch") && i + 1 < argc) {
            char *end;
            long p = strtol(argv[++i], &end, 10);
            if (*end || p < 0 || p > 127) {
                fprintf(stderr, "bandmate voice analyse: --pitch needs a MIDI pitch 0..127, not '%s'.\n", argv[i]);
                return 2;
            }
            pitch = (int)p;
        } else if (!strcmp(argv[i], "--frames")) frames_text = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "bandmate voice analyse: unknown option '%s'; 'bandmate voice --help' lists them.\n", argv[i]);
            return 2;
        } else if (!in) in = argv[i];
        else {
            fprintf(stderr, "bandmate voice analyse: one recording at a time ('%s' is one too many).\n", argv[i]);
            return 2;
        }
    }
    if (!in) {
        fprintf(stderr, "bandmate voice analyse: name a recording: bandmate voice analyse IN.wav [--out FEATURES].\n");
        return 2;
    }
    char err[512];
    float *x;
    size_t n;
    int sr;
    if (voice_audio_read(in, 0, &x, &n, &sr, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice analyse: %s.\n", err);
        return 1;
    }
    voice_analyser *a = voice_analyser_new(sr, err, sizeof err);
    if (!a) {
        fprintf(stderr, "bandmate voice analyse: %s: %s.\n", in, err);
        free(x);
        return 1;
    }
    /* before the analysis, so that an output that cannot be written fails at once */
    voice_features_writer *w = out ? voice_features_create(out, err, sizeof err) : NULL;
    if (out && !w) {
        fprintf(stderr, "bandmate voice analyse: %s.\n", err);
        voice_analyser_free(a);
        free(x);
        return 1;
    }
    voice_analysis_opts o;
    voice_analysis_defaults(&o);
    if (pitch >= 0) o.f0_hint_hz = (float)(440.0 * exp2((pitch - 69) / 12.0));
    voice_note note;
    memset(&note, 0, sizeof note);
    int rc = 1;
    if (voice_analyse(a, x, n, &o, &note.frames, &note.n_frames, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice analyse: %s: %s.\n", in, err);
        goto done;
    }
    note.program = -1;
    note.pitch = pitch;
    note.split = VOICE_SPLIT_RECORDING;
    note.sample_rate = sr;
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > note.peak) note.peak = fabsf(x[i]);
    size_t k = 0;
    for (const char *c = base_name(in); *c && k < VOICE_INSTRUMENT_NAME - 1; c++)
        note.instrument[k++] = *c >= 0x20 && *c <= 0x7e ? *c : '?';

    size_t voiced = 0, onsets = 0, clipped = 0, nf = note.n_frames;
    float loudest = VOICE_FLOOR_DB;
    float *f0s = malloc((nf ? nf : 1) * sizeof *f0s);
    if (!f0s) {
        fprintf(stderr, "bandmate voice analyse: out of memory.\n");
        goto done;
    }
    for (size_t i = 0; i < nf; i++) {
        const voice_frame *f = &note.frames[i];
        if (f->flags & VOICE_VOICED) f0s[voiced++] = f->f0_hz;
        if (f->flags & VOICE_ONSET) onsets++;
        if (f->flags & VOICE_CLIPPED) clipped++;
        if (f->loudness_db > loudest) loudest = f->loudness_db;
    }
    qsort(f0s, voiced, sizeof *f0s, cmp_float);
    printf("%s: %.2f s at %d Hz, %zu frames (%d per second)\n", in, (double)n / sr, sr, nf,
           VOICE_FRAME_RATE);
    if (voiced) {
        char nb[64];
        double med = f0s[voiced / 2];
        printf("pitch: %.0f%% of frames voiced, median %.1f Hz (%s), from %.1f to %.1f Hz\n",
               100.0 * voiced / nf, med, note_name(69.0 + 12.0 * log2(med / 440.0), nb, sizeof nb),
               f0s[voiced / 20], f0s[voiced - 1 - voiced / 20]);
    } else {
        printf("pitch: no frame is voiced (no steady pitch was found)\n");
    }
    free(f0s);
    printf("loudness: %.1f dB at the loudest (A-weighted, re full scale); %zu onset%s\n", loudest,
           onsets, onsets == 1 ? "" : "s");
    printf("peak: %.1f dBFS\n", 20.0 * log10(note.peak + 1e-12));
    if (clipped)
        printf("warning: %zu frames (%.1f%%) are clipped; their harmonics and noise are distorted\n",
               clipped, 100.0 * clipped / nf);
    if (sr < 2 * VOICE_BAND_TOP_HZ)
        printf("note: at %d Hz nothing above %d Hz can be measured; those bands read %.0f dB\n", sr,
               sr / 2, VOICE_FLOOR_DB);
    if (frames_text) {
        printf("time\tf0\tperiodicity\tloudness\tsince_onset\tflags");
        for (int h = 1; h <= VOICE_HARMONICS; h++) printf("\th%d", h);
        for (int b = 0; b < VOICE_BANDS; b++) printf("\tnoise%d", b);
        printf("\n");
        for (size_t i = 0; i < nf; i++) {
            const voice_frame *f = &note.frames[i];
            printf("%.3f\t%.3f\t%.3f\t%.2f\t%.3f\t%u", (double)i / VOICE_FRAME_RATE, f->f0_hz,
                   f->periodicity, f->loudness_db, f->since_onset_s, f->flags);
            for (int h = 0; h < VOICE_HARMONICS; h++) printf("\t%.6g", f->harm[h]);
            for (int b = 0; b < VOICE_BANDS; b++) printf("\t%.2f", f->noise_db[b]);
            printf("\n");
        }
    }
    if (w) {
        int wrc = voice_features_append(w, &note, err, sizeof err);
        if (wrc == 0) wrc = voice_features_close(w, err, sizeof err);
        else voice_features_abort(w);
        w = NULL;
        if (wrc != 0) {
            fprintf(stderr, "bandmate voice analyse: %s.\n", err);
            goto done;
        }
    }
    if (resynth) {
        float *y = malloc(n * sizeof *y);
        if (!y || voice_resynth(note.frames, nf, sr, 1, y, n) != 0) {
            free(y);
            fprintf(stderr, "bandmate voice analyse: out of memory resynthesising.\n");
            goto done;
        }
        double d = voice_msd(x, y, n, NULL);
        int wr = voice_audio_write(resynth, y, n, sr, 1, err, sizeof err);
        free(y);
        if (wr != 0) {
            fprintf(stderr, "bandmate voice analyse: %s.\n", err);
            goto done;
        }
        printf("resynthesis: %s (multi-scale spectral distance to the original %.2f dB)\n", resynth, d);
    }
    rc = 0;
done:
    if (w) voice_features_abort(w);
    voice_note_clear(&note);
    voice_analyser_free(a);
    free(x);
    return rc;
}

/* Finds a program's row in the instrument table; prints the error and returns -1 otherwise. */
static int table_row(const char *cmd, const char *table, const char *program, voice_instrument *row)
{
    char err[512];
    voice_instrument *list;
    size_t n;
    if (voice_instruments_read(table, &list, &n, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice %s: %s.\n", cmd, err);
        return -1;
    }
    char *end;
    long p = strtol(program, &end, 10);
    for (size_t i = 0; !*end && i < n; i++)
        if (list[i].program == p) {
            *row = list[i];
            free(list);
            return 0;
        }
    free(list);
    fprintf(stderr, "bandmate voice %s: program '%s' is not in %s.\n", cmd, program, table);
    return -1;
}

static int cmd_data_plan(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bandmate voice data-plan TABLE\n");
        return 2;
    }
    char err[512];
    voice_instrument *list;
    size_t n, total = 0;
    if (voice_instruments_read(argv[1], &list, &n, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice data-plan: %s.\n", err);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t cnt = voice_plan_notes(&list[i], NULL, 0);
        voice_planned_note *notes = malloc(cnt * sizeof *notes);
        if (!notes) {
            free(list);
            return 1;
        }
        voice_plan_notes(&list[i], notes, cnt);
        double seconds = notes[cnt - 1].start_ms / 1000.0 + notes[cnt - 1].length_s + VOICE_PLAN_GAP_S;
        free(notes);
        printf("%d\t%zu\t%.1f\t%s\t%s\n", list[i].program, cnt, seconds,
               list[i].held_out ? "heldout" : "train", list[i].name);
        total += cnt;
    }
    fprintf(stderr, "%zu instruments, %zu notes\n", n, total);
    free(list);
    return 0;
}

static int cmd_data_midi(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bandmate voice data-midi TABLE PROGRAM OUT.mid\n");
        return 2;
    }
    voice_instrument row;
    if (table_row("data-midi", argv[1], argv[2], &row) != 0) return 1;
    char err[512];
    if (voice_plan_write_midi(&row, argv[3], err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice data-midi: %s.\n", err);
        return 1;
    }
    return 0;
}

static int cmd_data_analyse(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bandmate voice data-analyse TABLE PROGRAM IN.wav OUT.bmvf\n");
        return 2;
    }
    voice_instrument row;
    if (table_row("data-analyse", argv[1], argv[2], &row) != 0) return 1;
    char err[512];
    if (voice_dataset_analyse(&row, argv[3], argv[4], 1, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice data-analyse: %s.\n", err);
        return 1;
    }
    return 0;
}

static int cmd_data_report(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bandmate voice data-report FEATURES...\n");
        return 2;
    }
    char err[512];
    for (int i = 1; i < argc; i++)
        if (voice_report_file(argv[i], stdout, i == 1, err, sizeof err) != 0) {
            fprintf(stderr, "bandmate voice data-report: %s.\n", err);
            return 1;
        }
    return 0;
}

static int cmd_data_eval(int argc, char **argv)
{
    size_t max_notes = 0;
    int first = 1;
    if (argc > 2 && !strcmp(argv[1], "--max-notes")) {
        char *end;
        long m = strtol(argv[2], &end, 10);
        if (*end || m < 0) {
            fprintf(stderr, "bandmate voice data-eval: --max-notes needs a count, not '%s'.\n", argv[2]);
            return 2;
        }
        max_notes = (size_t)m;
        first = 3;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: bandmate voice data-eval [--max-notes N] FEATURES...\n");
        return 2;
    }
    printf("%-24s %5s %5s | %9s %8s %8s | %9s %8s %8s\n", "instrument", "split", "notes",
           "resyn-MSD", "f0-err", "loud-err", "base-MSD", "f0-err", "loud-err");
    for (int i = first; i < argc; i++) {
        char err[512];
        voice_eval_summary s;
        if (voice_eval_file(argv[i], max_notes, &s, err, sizeof err) != 0) {
            fprintf(stderr, "bandmate voice data-eval: %s.\n", err);
            return 1;
        }
        printf("%-24.24s %5s %5zu | %7.2fdB %6.2fct %6.2fdB | %7.2fdB %6.2fct %6.2fdB\n",
               s.instrument, s.held_out ? "inst" : "p+v", s.notes, s.resynth_msd,
               s.resynth_f0_cents, s.resynth_loud_db, s.baseline_msd, s.baseline_f0_cents,
               s.baseline_loud_db);
        fflush(stdout);
    }
    return 0;
}

static int cmd_data_listen(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bandmate voice data-listen FEATURES NOTE PREFIX\n");
        return 2;
    }
    char err[512];
    voice_set *set;
    if (voice_features_read_file(argv[1], &set, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice data-listen: %s.\n", err);
        return 1;
    }
    char *end;
    long idx = strtol(argv[2], &end, 10);
    int rc = 1;
    float *y = NULL;
    voice_frame *base = NULL;
    if (*end || idx < 0 || (size_t)idx >= set->n_notes || !set->notes[idx].n_audio) {
        fprintf(stderr, "bandmate voice data-listen: note '%s' is not a held-out note of %s (it has %zu notes; held-out ones keep their audio).\n",
                argv[2], argv[1], set->n_notes);
        goto done;
    }
    const voice_note *nt = &set->notes[idx];
    int sr = nt->sample_rate;
    voice_timbre_avg avg;
    voice_timbre_avg_init(&avg);
    for (size_t i = 0; i < set->n_notes; i++)
        if (set->notes[i].split == VOICE_SPLIT_TRAIN || nt->split == VOICE_SPLIT_INSTRUMENT)
            voice_timbre_avg_add(&avg, set->notes[i].frames, set->notes[i].n_frames, sr);
    voice_timbre_avg_finish(&avg);
    y = malloc(nt->n_audio * sizeof *y);
    base = malloc(nt->n_frames * sizeof *base);
    if (!y || !base) goto done;
    voice_timbre_avg_frames(&avg, nt->frames, nt->n_frames, sr, base);
    char path[4096];
    printf("%s note %ld: %s pitch %d velocity %d length %.1f s (%s), %.2f s kept\n", argv[1], idx,
           nt->instrument, nt->pitch, nt->velocity, nt->length_s, voice_split_name(nt->split),
           (double)nt->n_audio / sr);
    snprintf(path, sizeof path, "%s-original.wav", argv[3]);
    if (voice_audio_write(path, nt->audio, nt->n_audio, sr, 1, err, sizeof err) != 0) goto fail;
    for (int pass = 0; pass < 2; pass++) {
        const voice_frame *fr = pass ? base : nt->frames;
        if (voice_resynth(fr, nt->n_frames, sr, 1, y, nt->n_audio) != 0) goto done;
        double per[VOICE_MSD_SCALES];
        double d = voice_msd(nt->audio, y, nt->n_audio, per);
        snprintf(path, sizeof path, "%s-%s.wav", argv[3], pass ? "baseline" : "resynth");
        if (voice_audio_write(path, y, nt->n_audio, sr, 1, err, sizeof err) != 0) goto fail;
        printf("%-9s %s: multi-scale distance %.2f dB (", pass ? "baseline" : "resynth", path, d);
        for (int k = 0; k < VOICE_MSD_SCALES; k++)
            printf("%s%d: %.2f", k ? ", " : "", voice_msd_sizes[k], per[k]);
        printf(")\n");
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "bandmate voice data-listen: %s.\n", err);
done:
    free(y);
    free(base);
    voice_set_free(set);
    return rc;
}

int cmd_voice(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } subs[] = {
        {"analyse", cmd_analyse},           {"analyze", cmd_analyse},
        {"data-plan", cmd_data_plan},       {"data-midi", cmd_data_midi},
        {"data-analyse", cmd_data_analyse}, {"data-report", cmd_data_report},
        {"data-eval", cmd_data_eval},       {"data-listen", cmd_data_listen},
        {"train-model", cmd_voice_train_model}, {"decode", cmd_voice_decode},
        {"place", cmd_voice_place},             {"train", cmd_voice_train_wav},
        {"list", cmd_voice_list},               {"render", cmd_voice_render},
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (!strcmp(argv[1], subs[i].name)) {
            if (cli_wants_help(argc - 1, argv + 1)) {
                usage(stdout);
                return 0;
            }
            return subs[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "bandmate voice: '%s' is not a voice command; 'bandmate voice --help' lists them.\n",
            argv[1]);
    return 2;
}
