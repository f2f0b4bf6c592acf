/* cmd_voice_use.c: `bandmate voice place|train|list|render`: making voices from the data set or a
 * performer's recording, listing them on the latent map, and playing them into WAV files. */
#include "engine/smf.h"
#include "engine/synth.h"
#include "engine/voice/analysis.h"
#include "engine/voice/audio_file.h"
#include "engine/voice/commands.h"
#include "engine/voice/synth_neural.h"
#include "engine/voice/voice_bank.h"
#include "engine/voice/voicedef.h"

#include <limits.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void command_line(int argc, char **argv, char *out, size_t len)
{
    snprintf(out, len, "bandmate voice");
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(out);
        snprintf(out + l, len - l, " %s", argv[i]);
    }
}

static const char *default_dir(char *buf, size_t len)
{
    if (voice_dir_find(buf, len) != 0) snprintf(buf, len, "voices");
    return buf;
}

/* The nearest voices in dir to z (names and distances), for telling where a new voice landed. */
static void print_neighbours(const char *dir, const voice_model *vm, const voice_def *v)
{
    char names[64][64];
    int n = voice_list(dir, names, 64);
    struct {
        float d;
        int i;
    } best[3] = {{1e30f, -1}, {1e30f, -1}, {1e30f, -1}};
    float z[VOICE_ZDIM_MAX];
    voice_def_z(v, 0.5f * (v->lowest + v->highest), z);
    for (int i = 0; i < n; i++) {
        if (!strcmp(names[i], v->name)) continue;
        char path[PATH_MAX + 80];
        voice_path_for(dir, names[i], path, sizeof path);
        voice_def o;
        char err[256];
        if (voice_def_load(&o, path, vm, err, sizeof err) != 0) continue;
        float zo[VOICE_ZDIM_MAX], d = 0;
        voice_def_z(&o, 0.5f * (o.lowest + o.highest), zo);
        for (int k = 0; k < v->zdim; k++) d += (z[k] - zo[k]) * (z[k] - zo[k]);
        d = sqrtf(d);
        for (int b = 0; b < 3; b++)
            if (d < best[b].d) {
                memmove(&best[b + 1], &best[b], sizeof best[0] * (size_t)(2 - b));
                best[b].d = d;
                best[b].i = i;
                break;
            }
    }
    if (best[0].i < 0) return;
    printf("nearest voices in the map:");
    for (int b = 0; b < 3 && best[b].i >= 0; b++) printf("%s %s (%.2f)", b ? "," : "", names[best[b].i], best[b].d);
    printf("\n");
}

/* ---- place ---- */

int cmd_voice_place(int argc, char **argv)
{
    const char *feat = NULL, *name = NULL, *decoder = NULL, *outdir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--name") && i + 1 < argc) name = argv[++i];
        else if (!strcmp(argv[i], "--decoder") && i + 1 < argc) decoder = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) outdir = argv[++i];
        else if (argv[i][0] != '-' && !feat) feat = argv[i];
        else {
            fprintf(stderr, "bandmate voice place: unexpected '%s'; 'bandmate voice --help' explains it.\n", argv[i]);
            return 2;
        }
    }
    if (!feat || !name) {
        fprintf(stderr, "bandmate voice place: name the feature file and the voice: bandmate voice place FEATURES.bmvf --name NAME.\n");
        return 2;
    }
    if (!voice_name_valid(name)) {
        fprintf(stderr, "bandmate voice place: '%s' cannot be a voice name; use letters, digits, _ - . +.\n", name);
        return 2;
    }
    char dirbuf[PATH_MAX], dpath[PATH_MAX + 32], err[512], cmd[2048];
    const char *dir = outdir ? outdir : default_dir(dirbuf, sizeof dirbuf);
    if (!decoder) {
        snprintf(dpath, sizeof dpath, "%s/decoder.bmnn", dir);
        decoder = dpath;
    }
    voice_model vm;
    if (voice_model_load(&vm, decoder, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice place: %s.\n", err);
        return 1;
    }
    voice_set *set;
    if (voice_features_read_file(feat, &set, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice place: %s.\n", err);
        voice_model_free(&vm);
        return 1;
    }
    int rc = 1;
    const voice_note **use = malloc(sizeof *use * (set->n_notes ? set->n_notes : 1));
    size_t n = 0;
    int held = set->n_notes && set->notes[0].split == VOICE_SPLIT_INSTRUMENT;
    for (size_t i = 0; use && i < set->n_notes; i++)
        if (set->notes[i].split == VOICE_SPLIT_TRAIN || held) use[n++] = &set->notes[i];
    char source[256];
    snprintf(source, sizeof source, "%s, %zu %s notes of the voice data set (%s)",
             set->n_notes ? set->notes[0].instrument : "?", n, held ? "held-out" : "training", feat);
    voice_def v;
    if (!use || voice_def_from_notes(&vm, use, n, name, source, &v, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice place: %s: %s.\n", feat, use ? err : "out of memory");
        goto done;
    }
    char path[PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/%s.bmnn", dir, name);
    command_line(argc, argv, cmd, sizeof cmd);
    if (voice_def_save(&v, path, cmd, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice place: %s.\n", err);
        goto done;
    }
    printf("placed '%s' from %s: a path of %d point%s over pitches %.0f-%.0f, gain %+.1f dB -> %s\n", name, source,
           v.n_path, v.n_path == 1 ? "" : "s", v.lowest, v.highest, v.gain_db, path);
    rc = 0;
done:
    free(use);
    voice_set_free(set);
    voice_model_free(&vm);
    return rc;
}

/* ---- train from a recording ---- */

#define MIN_SECONDS 30.0

int cmd_voice_train_wav(int argc, char **argv)
{
    const char *wav = NULL, *name = NULL, *decoder = NULL, *outdir = NULL;
    int force = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--wav") && i + 1 < argc) wav = argv[++i];
        else if (!strcmp(argv[i], "--name") && i + 1 < argc) name = argv[++i];
        else if (!strcmp(argv[i], "--decoder") && i + 1 < argc) decoder = argv[++i];
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) outdir = argv[++i];
        else if (!strcmp(argv[i], "--force")) force = 1;
        else {
            fprintf(stderr, "bandmate voice train: unexpected '%s'; use bandmate voice train --wav RECORDING.wav --name NAME.\n",
                    argv[i]);
            return 2;
        }
    }
    if (!wav || !name) {
        fprintf(stderr, "bandmate voice train: say which recording and what to call the voice: bandmate voice train --wav RECORDING.wav --name NAME.\n");
        return 2;
    }
    if (!voice_name_valid(name)) {
        fprintf(stderr, "bandmate voice train: '%s' cannot be a voice name; use letters, digits, _ - . + (at most 47).\n", name);
        return 2;
    }
    char dirbuf[PATH_MAX], dpath[PATH_MAX + 32], err[512], cmd[2048], path[PATH_MAX + 80];
    const char *dir = outdir ? outdir : default_dir(dirbuf, sizeof dirbuf);
    snprintf(path, sizeof path, "%s/%s.bmnn", dir, name);
    if (!force && access(path, F_OK) == 0) {
        fprintf(stderr, "bandmate voice train: a voice '%s' already exists (%s); choose another name or add --force.\n", name, path);
        return 1;
    }
    if (!decoder) {
        snprintf(dpath, sizeof dpath, "%s/decoder.bmnn", dir);
        decoder = dpath;
    }
    voice_model vm;
    if (voice_model_load(&vm, decoder, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice train: %s.\n", err);
        return 1;
    }
    float *x = NULL;
    size_t n = 0;
    int sr = 0, rc = 1;
    voice_analyser *a = NULL;
    voice_frame *fr = NULL;
    size_t nf = 0;
    if (voice_audio_read(wav, 1, &x, &n, &sr, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice train: %s.\n", err);
        goto done;
    }
    double secs = (double)n / sr;
    if (secs < MIN_SECONDS) {
        fprintf(stderr, "bandmate voice train: %s is %.1f s long; a voice needs %.0f s or more of single notes played on the instrument.\n",
                wav, secs, MIN_SECONDS);
        goto done;
    }
    a = voice_analyser_new(sr, err, sizeof err);
    if (!a) {
        fprintf(stderr, "bandmate voice train: %s: %s.\n", wav, err);
        goto done;
    }
    voice_analysis_opts o;
    voice_analysis_defaults(&o);
    o.onsets = VOICE_ONSETS_DETECT;
    if (voice_analyse(a, x, n, &o, &fr, &nf, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice train: %s: %s.\n", wav, err);
        goto done;
    }
    /* what makes a recording unusable, in the order a performer would want to hear it */
    float loudest = VOICE_FLOOR_DB;
    for (size_t k = 0; k < nf; k++)
        if (fr[k].loudness_db > loudest) loudest = fr[k].loudness_db;
    if (loudest < -60.0f) {
        fprintf(stderr, "bandmate voice train: %s is silent (its loudest moment reads %.0f dBFS); check the input and record again.\n",
                wav, loudest);
        goto done;
    }
    size_t active = 0, voiced = 0, lowheavy = 0, onsets = 0;
    for (size_t k = 0; k < nf; k++) {
        onsets += (fr[k].flags & VOICE_ONSET) != 0;
        if (fr[k].loudness_db < loudest - 35.0f || fr[k].loudness_db < -70.0f) continue;
        active++;
        if (!(fr[k].flags & VOICE_VOICED)) continue;
        voiced++;
        /* a chord read as one low pitch: its first three "harmonics" are nearly absent */
        float top = 0, low = 0;
        for (int h = 0; h < VOICE_HARMONICS; h++) top = fmaxf(top, fr[k].harm[h]);
        for (int h = 0; h < 3; h++) low = fmaxf(low, fr[k].harm[h]);
        if (top > 0 && low < 0.1f * top) lowheavy++;
    }
    double active_s = (double)active / VOICE_FRAME_RATE;
    if (active_s < 10.0) {
        fprintf(stderr, "bandmate voice train: %s holds only %.1f s of sound among %.0f s of silence or noise; record %.0f s or more of playing.\n",
                wav, active_s, secs, MIN_SECONDS);
        goto done;
    }
    double pitched = (double)voiced / (double)active, chordlike = voiced ? (double)lowheavy / (double)voiced : 0;
    if (pitched < 0.5 || chordlike > 0.4) {
        fprintf(stderr, "bandmate voice train: %s sounds polyphonic or unpitched (%.0f%% of its sounding moments have one clear pitch%s); "
                        "record one note at a time on a pitched instrument.\n",
                wav, 100 * pitched, chordlike > 0.4 ? ", and most look like chords" : "");
        goto done;
    }
    char source[256];
    snprintf(source, sizeof source, "a recording: %s (%.0f s, %zu onsets)", wav, secs, onsets);
    voice_def v;
    if (voice_def_from_recording(&vm, fr, nf, sr, name, source, &v, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice train: %s: %s.\n", wav, err);
        goto done;
    }
    command_line(argc, argv, cmd, sizeof cmd);
    if (voice_def_save(&v, path, cmd, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice train: %s.\n", err);
        goto done;
    }
    printf("made the voice '%s' from %.0f s of playing (%.0f%% pitched, %zu onsets, pitches %.0f-%.0f): %s\n", name,
           active_s, 100 * pitched, onsets, v.lowest, v.highest, path);
    print_neighbours(dir, &vm, &v);
    rc = 0;
done:
    free(x);
    free(fr);
    voice_analyser_free(a);
    voice_model_free(&vm);
    return rc;
}

/* ---- list ---- */

int cmd_voice_list(int argc, char **argv)
{
    char dirbuf[PATH_MAX], err[512];
    const char *dir = argc > 1 ? argv[1] : default_dir(dirbuf, sizeof dirbuf);
    char dpath[PATH_MAX + 32];
    snprintf(dpath, sizeof dpath, "%s/decoder.bmnn", dir);
    voice_model vm;
    if (voice_model_load(&vm, dpath, err, sizeof err) != 0) {
        fprintf(stderr, "bandmate voice list: %s.\n", err);
        return 1;
    }
    char names[128][64];
    int n = voice_list(dir, names, 128), bad = 0;
    printf("%d voices in %s (decoder: z %d, GRU %d)\n", n, dir, vm.cfg.zdim, vm.cfg.dec_gru);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX + 80];
        voice_path_for(dir, names[i], path, sizeof path);
        voice_def v;
        if (voice_def_load(&v, path, &vm, err, sizeof err) != 0) {
            printf("  %-16s cannot be used: %s\n", names[i], err);
            bad++;
            continue;
        }
        float z[VOICE_ZDIM_MAX];
        voice_def_z(&v, 0.5f * (v.lowest + v.highest), z);
        printf("  %-16s %d-point path, pitches %3.0f-%3.0f, z = (", names[i], v.n_path, v.lowest, v.highest);
        for (int d = 0; d < v.zdim && d < 4; d++) printf("%s%+.2f", d ? ", " : "", z[d]);
        printf("%s)  %s\n", v.zdim > 4 ? ", ..." : "", v.source);
    }
    voice_model_free(&vm);
    return bad ? 1 : 0;
}

/* ---- render ---- */

/* A short phrase: a rising line, then a held chord. */
static int phrase_events(int base, double *t, int *note, int *vel, int *on, int max)
{
    static const int line[] = {0, 2, 4, 5, 7, 9, 11, 12};
    int n = 0;
    for (int i = 0; i < 8 && n + 2 <= max; i++) {
        t[n] = 0.25 * i, note[n] = base + line[i], vel[n] = 70 + 6 * i, on[n] = 1, n++;
        t[n] = 0.25 * i + 0.22, note[n] = base + line[i], vel[n] = 0, on[n] = 0, n++;
    }
    static const int chord[] = {0, 4, 7, 12};
    for (int i = 0; i < 4 && n + 2 <= max; i++) {
        t[n] = 2.25 + 0.02 * i, note[n] = base + chord[i], vel[n] = 90, on[n] = 1, n++;
        t[n] = 3.6, note[n] = base + chord[i], vel[n] = 0, on[n] = 0, n++;
    }
    return n;
}

struct ev {
    double t;
    int note, vel, on;
};

static int cmp_ev(const void *a, const void *b)
{
    double x = ((const struct ev *)a)->t, y = ((const struct ev *)b)->t;
    return (x > y) - (x < y);
}

int cmd_voice_render(int argc, char **argv)
{
    const char *spec = NULL, *out = NULL, *mid = NULL, *write_mid = NULL;
    int base = 60, sweep = 0, rate = 48000, program = 0;
    double tail = 1.2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--mid") && i + 1 < argc) mid = argv[++i];
        else if (!strcmp(argv[i], "--pitch") && i + 1 < argc) base = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc) rate = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sweep")) sweep = 1;
        else if (!strcmp(argv[i], "--write-mid") && i + 1 < argc) write_mid = argv[++i];
        else if (!strcmp(argv[i], "--program") && i + 1 < argc) program = atoi(argv[++i]);
        else if (argv[i][0] != '-' && !spec) spec = argv[i];
        else {
            fprintf(stderr, "bandmate voice render: unexpected '%s'; 'bandmate voice --help' explains it.\n", argv[i]);
            return 2;
        }
    }
    if (!spec || !out) {
        fprintf(stderr, "bandmate voice render: name a voice and a file: bandmate voice render VOICE --out OUT.wav [--mid FILE] [--sweep].\n");
        return 2;
    }
    if (rate < 16000 || rate > 192000 || base < 12 || base > 108) {
        fprintf(stderr, "bandmate voice render: --rate must be 16000..192000 and --pitch 12..108.\n");
        return 2;
    }
    char err[512];
    bm_instrument *in = voice_instrument_create(spec, 16, rate, err, sizeof err);
    if (!in) {
        fprintf(stderr, "bandmate voice render: %s.\n", err);
        return 1;
    }
    struct ev *ev = NULL;
    int nev = 0;
    if (mid) {
        smf *s = NULL;
        smf_tempo_map map;
        if (smf_read_file(mid, &s, err, sizeof err) != 0 || smf_tempo_map_build(s, &map) != 0) {
            fprintf(stderr, "bandmate voice render: %s.\n", s ? "out of memory" : err);
            smf_free(s);
            instrument_destroy(in);
            return 1;
        }
        size_t total = 0;
        for (int tr = 0; tr < s->ntracks; tr++) total += s->tracks[tr].n;
        ev = calloc(total ? total : 1, sizeof *ev);
        for (int tr = 0; ev && tr < s->ntracks; tr++)
            for (size_t k = 0; k < s->tracks[tr].n; k++) {
                const smf_event *e = &s->tracks[tr].events[k];
                if (e->kind != SMF_MIDI || e->nbytes < 3) continue;
                int st = e->bytes[0] & 0xf0;
                if (st != 0x80 && st != 0x90) continue;
                if ((e->bytes[0] & 0x0f) == 9) continue; /* the drum channel */
                int is_on = st == 0x90 && e->bytes[2] > 0;
                ev[nev++] = (struct ev){smf_tempo_map_seconds(&map, e->tick), e->bytes[1], e->bytes[2], is_on};
            }
        smf_tempo_map_free(&map);
        smf_free(s);
    } else {
        double t[64];
        int note[64], vel[64], on[64];
        int n = phrase_events(base, t, note, vel, on, 64);
        ev = calloc((size_t)n, sizeof *ev);
        for (int i = 0; ev && i < n; i++) ev[nev++] = (struct ev){t[i], note[i], vel[i], on[i]};
    }
    if (!ev) {
        fprintf(stderr, "bandmate voice render: out of memory.\n");
        instrument_destroy(in);
        return 1;
    }
    qsort(ev, (size_t)nev, sizeof *ev, cmp_ev);
    if (write_mid) { /* the same notes as MIDI (1 tick = 1 ms), for other synthesizers to play */
        smf *m = smf_new(500);
        int tr = m ? smf_add_track(m, "voice") : -1;
        uint8_t pc[2] = {0xc0, (uint8_t)(program & 0x7f)};
        if (tr >= 0) smf_add_midi(m, tr, 0, pc, 2);
        for (int i = 0; tr >= 0 && i < nev; i++) {
            uint8_t msg[3] = {(uint8_t)(ev[i].on ? 0x90 : 0x80), (uint8_t)ev[i].note, (uint8_t)(ev[i].on ? ev[i].vel : 0)};
            smf_add_midi(m, tr, (uint64_t)llround(ev[i].t * 1000.0), msg, 3);
        }
        if (!m || tr < 0 || smf_write_file(m, write_mid, err, sizeof err) != 0)
            fprintf(stderr, "bandmate voice render: %s.\n", m ? err : "out of memory");
        smf_free(m);
    }
    double end = (nev ? ev[nev - 1].t : 0) + tail;
    size_t total = (size_t)(end * rate);
    float *y = calloc(total ? total : 1, sizeof *y);
    if (!y) {
        fprintf(stderr, "bandmate voice render: out of memory.\n");
        free(ev);
        instrument_destroy(in);
        return 1;
    }
    voice_spec sp;
    voice_spec_parse(spec, &sp, err, sizeof err);
    size_t pos = 0;
    int k = 0;
    const size_t block = 64;
    while (pos < total) {
        size_t next = pos + block < total ? pos + block : total;
        while (k < nev && (size_t)(ev[k].t * rate) < next) {
            size_t at = (size_t)(ev[k].t * rate);
            if (at > pos) {
                in->ops->render(in, y + pos, (uint32_t)(at - pos));
                pos = at;
            }
            if (ev[k].on) in->ops->note_on(in, ev[k].note, ev[k].vel);
            else in->ops->note_off(in, ev[k].note);
            k++;
        }
        if (sweep && sp.n > 1) { /* the morph moves from the spec's position to the last voice */
            float f = (float)pos / (float)total;
            in->ops->set_param(in, BM_SYNTH_MORPH_X, sp.x + f * (1.0f - sp.x));
            if (sp.n > 2) in->ops->set_param(in, BM_SYNTH_MORPH_Y, sp.y + f * (1.0f - sp.y));
        }
        in->ops->render(in, y + pos, (uint32_t)(next - pos));
        pos = next;
    }
    float peak = 0;
    for (size_t i = 0; i < total; i++) peak = fmaxf(peak, fabsf(y[i]));
    int rc = 0;
    /* by the extension: .ogg (Vorbis, small enough for examples), .flac, else a 16-bit WAV */
    const char *dot = strrchr(out, '.');
    int format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    if (dot && !strcmp(dot, ".ogg")) format = SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    else if (dot && !strcmp(dot, ".flac")) format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    SF_INFO info = {0};
    info.samplerate = rate;
    info.channels = 1;
    info.format = format;
    SNDFILE *f = sf_open(out, SFM_WRITE, &info);
    if (!f) {
        fprintf(stderr, "bandmate voice render: cannot write %s (%s).\n", out, sf_strerror(NULL));
        rc = 1;
    } else {
        if (format & SF_FORMAT_VORBIS) {
            double q = 0.2;
            sf_command(f, SFC_SET_VBR_ENCODING_QUALITY, &q, sizeof q);
        }
        if (peak > 0.98f) /* keep it unclipped */
            for (size_t i = 0; i < total; i++) y[i] *= 0.98f / peak;
        sf_writef_float(f, y, (sf_count_t)total);
        sf_close(f);
        printf("rendered %s: %.1f s, peak %.2f -> %s\n", spec, (double)total / rate, peak, out);
    }
    free(y);
    free(ev);
    instrument_destroy(in);
    return rc;
}
