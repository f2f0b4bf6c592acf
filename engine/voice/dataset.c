/* dataset.c: instrument table, note plan, MIDI for fluidsynth, slicing and analysis of renders. */
#include "engine/voice/dataset.h"
#include "engine/util.h"
#include "engine/smf.h"
#include "engine/voice/analysis.h"
#include "engine/voice/audio_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const int voice_plan_velocities[VOICE_PLAN_VELOCITIES] = {32, 64, 96, 127};
const float voice_plan_lengths[VOICE_PLAN_LENGTHS] = {0.2f, 0.6f, 1.5f};

static int parse_int(const char *s, int lo, int hi, int *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi) return -1;
    *v = (int)x;
    return 0;
}

int voice_instruments_read(const char *path, voice_instrument **out, size_t *n, char *err,
                           size_t errlen)
{
    *out = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        bm_errf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    voice_instrument *list = NULL;
    size_t cnt = 0;
    char line[512];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (!len || line[0] == '#') continue;
        char *field[5];
        int nf = 0;
        char *p = line;
        while (nf < 5) {
            field[nf++] = p;
            char *tab = strchr(p, '\t');
            if (!tab) break;
            *tab = 0;
            p = tab + 1;
        }
        voice_instrument ins;
        memset(&ins, 0, sizeof ins);
        const char *why = NULL;
        if (nf != 5 || strchr(field[4], '\t')) why = "it needs 5 tab-separated fields";
        else if (parse_int(field[0], 0, 127, &ins.program)) why = "the program is not 0..127";
        else if (parse_int(field[1], 0, 127, &ins.lowest) || parse_int(field[2], 0, 127, &ins.highest) ||
                 ins.lowest > ins.highest)
            why = "the pitch range is not two MIDI pitches, lowest first";
        else if (strcmp(field[3], "train") && strcmp(field[3], "heldout"))
            why = "the split is neither 'train' nor 'heldout'";
        else if (!*field[4] || strlen(field[4]) >= VOICE_INSTRUMENT_NAME)
            why = "the name is empty or longer than 47 characters";
        for (const char *c = field[4]; !why && *c; c++)
            if (*c < 0x20 || *c > 0x7e) why = "the name holds a character that is not printable";
        for (size_t i = 0; !why && i < cnt; i++)
            if (list[i].program == ins.program) why = "the program is listed twice";
        if (why) {
            bm_errf(err, errlen, "%s line %d is not a usable instrument: %s", path, lineno, why);
            rc = -1;
            break;
        }
        ins.held_out = !strcmp(field[3], "heldout");
        snprintf(ins.name, sizeof ins.name, "%s", field[4]);
        voice_instrument *grown = realloc(list, (cnt + 1) * sizeof *list);
        if (!grown) {
            bm_errf(err, errlen, "out of memory reading %s", path);
            rc = -1;
            break;
        }
        list = grown;
        list[cnt++] = ins;
    }
    fclose(f);
    if (rc == 0 && cnt == 0) {
        bm_errf(err, errlen, "%s lists no instruments", path);
        rc = -1;
    }
    if (rc != 0) {
        free(list);
        return -1;
    }
    *out = list;
    *n = cnt;
    return 0;
}

size_t voice_plan_notes(const voice_instrument *ins, voice_planned_note *out, size_t cap)
{
    size_t count = 0;
    double t = VOICE_PLAN_LEAD_S;
    for (int i = 0; ins->lowest + VOICE_PLAN_PITCH_STEP * i <= ins->highest; i++) {
        int pitch = ins->lowest + VOICE_PLAN_PITCH_STEP * i;
        int held_pitch = i % 5 == VOICE_PLAN_HELD_PITCH;
        for (int v = 0; v <= VOICE_PLAN_VELOCITIES; v++) {
            int extra = v == VOICE_PLAN_VELOCITIES;
            for (int l = 0; l < VOICE_PLAN_LENGTHS; l++) {
                if (extra && l != 1) continue; /* the held-out velocity: medium length only */
                voice_planned_note nt;
                nt.pitch = pitch;
                nt.velocity = extra ? VOICE_PLAN_HELD_VELOCITY : voice_plan_velocities[v];
                nt.length_s = voice_plan_lengths[l];
                nt.split = ins->held_out ? VOICE_SPLIT_INSTRUMENT
                           : held_pitch  ? VOICE_SPLIT_PITCH
                           : extra       ? VOICE_SPLIT_VELOCITY
                                         : VOICE_SPLIT_TRAIN;
                nt.start_ms = (int)lround(t * 1000.0);
                if (out && count < cap) out[count] = nt;
                count++;
                t += voice_plan_lengths[l] + VOICE_PLAN_GAP_S;
            }
        }
    }
    return count;
}

int voice_plan_write_midi(const voice_instrument *ins, const char *path, char *err, size_t errlen)
{
    size_t n = voice_plan_notes(ins, NULL, 0);
    voice_planned_note *notes = malloc((n ? n : 1) * sizeof *notes);
    smf *s = smf_new(1000); /* 1000 ticks per quarter at 60 BPM: a tick is a millisecond */
    int rc = -1;
    if (!notes || !s) {
        bm_errf(err, errlen, "out of memory writing %s", path);
        goto done;
    }
    voice_plan_notes(ins, notes, n);
    int tr = smf_add_track(s, ins->name);
    int ok = tr >= 0 && smf_add_tempo(s, tr, 0, 1000000) == 0;
    const uint8_t setup[][3] = {
        {0xC0, (uint8_t)ins->program, 0}, {0xB0, 7, 100}, {0xB0, 10, 64}, {0xB0, 11, 127},
        {0xB0, 91, 0}, {0xB0, 93, 0},
    };
    for (size_t i = 0; ok && i < sizeof setup / sizeof setup[0]; i++)
        ok = smf_add_midi(s, tr, 0, setup[i], setup[i][0] == 0xC0 ? 2 : 3) == 0;
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t on = (uint64_t)notes[i].start_ms;
        uint64_t off = on + (uint64_t)lround(notes[i].length_s * 1000.0);
        uint8_t m_on[3] = {0x90, (uint8_t)notes[i].pitch, (uint8_t)notes[i].velocity};
        uint8_t m_off[3] = {0x80, (uint8_t)notes[i].pitch, 0};
        uint8_t m_quiet[3] = {0xB0, 120, 0};
        ok = smf_add_midi(s, tr, on, m_on, 3) == 0 && smf_add_midi(s, tr, off, m_off, 3) == 0 &&
             smf_add_midi(s, tr, off + 1200, m_quiet, 3) == 0;
    }
    if (!ok) {
        bm_errf(err, errlen, "out of memory writing %s", path);
        goto done;
    }
    rc = smf_write_file(s, path, err, errlen);
done:
    smf_free(s);
    free(notes);
    return rc;
}

size_t voice_note_end(const float *x, size_t n, size_t off, int sr)
{
    size_t win = (size_t)sr / 100, limit = off + (size_t)(VOICE_PLAN_TAIL_S * sr);
    if (limit > n) limit = n;
    if (off >= limit) return limit;
    double peak = 0.0;
    for (size_t s = 0; s + win <= limit; s += win) {
        double e = 0.0;
        for (size_t i = s; i < s + win; i++) e += (double)x[i] * x[i];
        if (e > peak) peak = e;
    }
    double quiet = peak * 1e-6; /* -60 dB */
    size_t end = limit;
    /* walk back from the limit while the signal stays quiet */
    while (end >= off + win) {
        double e = 0.0;
        for (size_t i = end - win; i < end; i++) e += (double)x[i] * x[i];
        if (e > quiet) break;
        end -= win;
    }
    return end < off ? off : end;
}

int voice_dataset_analyse(const voice_instrument *ins, const char *wav_path, const char *out_path,
                          int verbose, char *err, size_t errlen)
{
    float *x = NULL;
    size_t n = 0;
    int sr = 0;
    if (voice_audio_read(wav_path, 1, &x, &n, &sr, err, errlen) != 0) return -1;
    size_t count = voice_plan_notes(ins, NULL, 0);
    voice_planned_note *plan = malloc((count ? count : 1) * sizeof *plan);
    voice_analyser *a = voice_analyser_new(sr, err, errlen);
    voice_features_writer *w = NULL;
    int rc = -1;
    if (!plan || !a) {
        if (!plan) bm_errf(err, errlen, "out of memory");
        goto done;
    }
    voice_plan_notes(ins, plan, count);
    if (count && (size_t)(plan[count - 1].start_ms / 1000.0 * sr) >= n) {
        bm_errf(err, errlen,
                "%s is shorter than the plan of %s (%zu notes): it was not rendered from the "
                "plan's MIDI file",
                wav_path, ins->name, count);
        goto done;
    }
    w = voice_features_create(out_path, err, errlen);
    if (!w) goto done;
    size_t frames = 0, kept = 0, silent = 0;
    for (size_t i = 0; i < count; i++) {
        size_t on = (size_t)lround(plan[i].start_ms / 1000.0 * sr);
        size_t off_rel = (size_t)lround(plan[i].length_s * sr);
        size_t avail = n - on;
        size_t next = i + 1 < count ? (size_t)lround(plan[i + 1].start_ms / 1000.0 * sr) - on : avail;
        if (next < avail) avail = next;
        size_t len = voice_note_end(x + on, avail, off_rel, sr);
        if (len < (size_t)sr / 20) len = avail < (size_t)sr / 20 ? avail : (size_t)sr / 20;
        voice_analysis_opts o;
        voice_analysis_defaults(&o);
        o.f0_hint_hz = (float)(440.0 * exp2((plan[i].pitch - 69) / 12.0));
        o.onsets = VOICE_ONSETS_AT_START;
        voice_note note;
        memset(&note, 0, sizeof note);
        note.program = ins->program;
        note.pitch = plan[i].pitch;
        note.velocity = plan[i].velocity;
        note.split = plan[i].split;
        note.length_s = plan[i].length_s;
        note.sample_rate = sr;
        snprintf(note.instrument, sizeof note.instrument, "%s", ins->name);
        for (size_t k = 0; k < len; k++)
            if (fabsf(x[on + k]) > note.peak) note.peak = fabsf(x[on + k]);
        if (note.peak < VOICE_DATASET_SILENT) {
            /* the soundfont has no sample there: nothing to learn from */
            if (verbose)
                fprintf(stderr, "voice data: %s pitch %d velocity %d is silent and left out; narrow "
                                "the instrument's range in the table\n",
                        ins->name, plan[i].pitch, plan[i].velocity);
            silent++;
            continue;
        }
        char why[256];
        if (voice_analyse(a, x + on, len, &o, &note.frames, &note.n_frames, why, sizeof why) != 0) {
            bm_errf(err, errlen, "cannot analyse note %zu of %s: %s", i + 1, ins->name, why);
            goto done;
        }
        if (note.split != VOICE_SPLIT_TRAIN) {
            note.audio = x + on; /* borrowed: written, not freed */
            note.n_audio = len;
            kept += len;
        }
        int wr = voice_features_append(w, &note, err, errlen);
        note.audio = NULL;
        note.n_audio = 0;
        frames += note.n_frames;
        voice_note_clear(&note);
        if (wr != 0) goto done;
    }
    rc = voice_features_close(w, err, errlen);
    w = NULL;
    if (rc == 0 && verbose)
        fprintf(stderr, "voice data: %-24s %4zu notes, %7zu frames, %5.1f s of held-out audio kept\n",
                ins->name, count - silent, frames, (double)kept / sr);
done:
    if (w) voice_features_abort(w);
    voice_analyser_free(a);
    free(plan);
    free(x);
    return rc;
}
