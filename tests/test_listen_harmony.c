/* test_listen_harmony.c: chord and key estimation, online (only what has been played so far):
 * accuracy on examples/chords.mid and on generated progressions (block chords, comping,
 * arpeggios, a melody over chords, in every key), and how many beats a key change takes to be
 * recognised. */
#include "test.h"
#include "test_listen_util.h"
#include "engine/listen/harmony.h"
#include "engine/smf.h"

#include <stdlib.h>

typedef struct hnote {
    double on, off;   /* beats */
    int note, vel;
} hnote;

typedef struct hchord {
    double start, end;
    int root, quality;
} hchord;

static const int iv_of[BM_CHORD_COUNT][4] = {
    [BM_CHORD_MAJ] = {0, 4, 7, -1}, [BM_CHORD_MIN] = {0, 3, 7, -1}, [BM_CHORD_DOM7] = {0, 4, 7, 10},
    [BM_CHORD_MAJ7] = {0, 4, 7, 11}, [BM_CHORD_MIN7] = {0, 3, 7, 10}, [BM_CHORD_DIM] = {0, 3, 6, -1},
    [BM_CHORD_HALFDIM7] = {0, 3, 6, 10}, [BM_CHORD_AUG] = {0, 4, 8, -1}, [BM_CHORD_SUS4] = {0, 5, 7, -1},
    [BM_CHORD_SUS2] = {0, 2, 7, -1},
};

typedef struct hev {
    double beat;
    int on, note, vel;
} hev;

static int cmp_hev(const void *a, const void *b)
{
    const hev *x = a, *y = b;
    if (x->beat != y->beat) return x->beat < y->beat ? -1 : 1;
    return x->on - y->on; /* releases first */
}

typedef struct hscore {
    int steps, exact, root;
} hscore;

/* Plays notes through a harmony estimator, checking the chord at every 16th against the truth
 * (steps inside a chord's span; the estimate may use everything up to and at the step). */
static hscore run_chords(const hnote *notes, int n, const hchord *truth, int nt, int verbose)
{
    hev *ev = malloc(sizeof *ev * (size_t)(2 * n + 1));
    int ne = 0;
    double end = 0;
    for (int i = 0; i < n; i++) {
        ev[ne++] = (hev){notes[i].on, 1, notes[i].note, notes[i].vel};
        ev[ne++] = (hev){notes[i].off, 0, notes[i].note, 0};
        if (notes[i].off > end) end = notes[i].off;
    }
    qsort(ev, (size_t)ne, sizeof *ev, cmp_hev);
    bm_harmony h;
    harmony_init(&h);
    hscore s = {0, 0, 0};
    int ei = 0;
    for (double beat = 0; beat < end; beat += 0.25) {
        while (ei < ne && ev[ei].beat <= beat + 1e-9) {
            if (ev[ei].on) harmony_note_on(&h, ev[ei].note, ev[ei].vel, ev[ei].beat);
            else harmony_note_off(&h, ev[ei].note, ev[ei].beat);
            ei++;
        }
        harmony_update(&h, beat);
        for (int c = 0; c < nt; c++) {
            if (beat < truth[c].start - 1e-9 || beat >= truth[c].end - 1e-9) continue;
            s.steps++;
            int root_ok = h.chord_root == truth[c].root;
            s.root += root_ok;
            s.exact += root_ok && h.chord_quality == truth[c].quality;
            if (verbose && !(root_ok && h.chord_quality == truth[c].quality)) {
                char a[16], b[16];
                printf("    beat %.2f: heard %s, played %s\n", beat, listen_chord_name(h.chord_root, h.chord_quality, a, 16),
                       listen_chord_name(truth[c].root, truth[c].quality, b, 16));
            }
        }
    }
    free(ev);
    return s;
}

static int verbose(void) { return getenv("BM_LISTEN_VERBOSE") != NULL; }

TEST(listen_harmony_names_the_chords_of_examples_chords_mid)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/../examples/chords.mid", test_bindir());
    smf *s;
    char err[256];
    if (smf_read_file(path, &s, err, sizeof err) != 0) {
        snprintf(path, sizeof path, "examples/chords.mid");
        CHECKF(smf_read_file(path, &s, err, sizeof err) == 0, "%s", err);
    }
    static hnote notes[512];
    int n = 0;
    double open[128];
    int openv[128];
    for (int i = 0; i < 128; i++) open[i] = -1;
    for (int t = 0; t < s->ntracks; t++)
        for (size_t i = 0; i < s->tracks[t].n; i++) {
            const smf_event *e = &s->tracks[t].events[i];
            if (e->kind != SMF_MIDI || e->nbytes != 3) continue;
            double beat = (double)e->tick / s->division;
            int st = e->bytes[0] & 0xf0, note = e->bytes[1];
            if (st == 0x90 && e->bytes[2]) {
                open[note] = beat;
                openv[note] = e->bytes[2];
            } else if ((st == 0x80 || st == 0x90) && open[note] >= 0 && n < 512) {
                notes[n++] = (hnote){open[note], beat, note, openv[note]};
                open[note] = -1;
            }
        }
    smf_free(s);
    /* C Am F G twice, Dm7 G7 Cmaj7 Cmaj7, C Am F G: one chord a bar */
    static const int roots[16] = {0, 9, 5, 7, 0, 9, 5, 7, 2, 7, 0, 0, 0, 9, 5, 7};
    static const int quals[16] = {BM_CHORD_MAJ, BM_CHORD_MIN, BM_CHORD_MAJ, BM_CHORD_MAJ, BM_CHORD_MAJ, BM_CHORD_MIN,
                                  BM_CHORD_MAJ, BM_CHORD_MAJ, BM_CHORD_MIN7, BM_CHORD_DOM7, BM_CHORD_MAJ7, BM_CHORD_MAJ7,
                                  BM_CHORD_MAJ, BM_CHORD_MIN, BM_CHORD_MAJ, BM_CHORD_MAJ};
    hchord truth[16];
    for (int b = 0; b < 16; b++) truth[b] = (hchord){b * 4.0, b * 4.0 + 4, roots[b], quals[b]};
    hscore r = run_chords(notes, n, truth, 16, verbose());
    double acc = (double)r.exact / r.steps;
    if (lt_report())
        printf("  examples/chords.mid: chord exact %.1f %% (root %.1f %%) over %d sixteenths\n", 100 * acc,
               100.0 * r.root / r.steps, r.steps);
    CHECKF(acc >= 0.95, "exact chord accuracy %.3f", acc);
}

static uint64_t hrng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

enum { BLOCK, COMPING, ARPEGGIO, MELODY_OVER, NSTYLES };
static const char *const style_names[NSTYLES] = {"block chords", "comping (chords.mid rhythm)",
                                                 "arpeggios (eighths)", "chords + melody"};

/* A progression of nbars chords (one a bar) in a key, voiced in close position with a random
 * inversion, the root in the bass an octave below, played in a style. */
static int gen_progression(int style, uint64_t seed, hnote *notes, hchord *truth, int nbars)
{
    static const int deg_root[7] = {0, 2, 4, 5, 7, 9, 11};
    static const int deg_tri[7] = {BM_CHORD_MAJ, BM_CHORD_MIN, BM_CHORD_MIN, BM_CHORD_MAJ, BM_CHORD_MAJ, BM_CHORD_MIN, BM_CHORD_DIM};
    static const int deg_sev[7] = {BM_CHORD_MAJ7, BM_CHORD_MIN7, BM_CHORD_MIN7, BM_CHORD_MAJ7, BM_CHORD_DOM7, BM_CHORD_MIN7, BM_CHORD_HALFDIM7};
    uint64_t s = seed;
    int key = (int)(hrng(&s) % 12), n = 0;
    for (int b = 0; b < nbars; b++) {
        int deg = (int)(hrng(&s) % 7);
        int seventh = hrng(&s) % 3 == 0;
        int q = seventh ? deg_sev[deg] : deg_tri[deg];
        if (hrng(&s) % 10 == 0) q = hrng(&s) % 2 ? BM_CHORD_SUS4 : BM_CHORD_DOM7; /* now and then a colour */
        int root = (key + deg_root[deg]) % 12;
        truth[b] = (hchord){b * 4.0, b * 4.0 + 4, root, q};
        int tones[4], nt = 0;
        for (int i = 0; i < 4 && iv_of[q][i] >= 0; i++) tones[nt++] = 60 + (root + iv_of[q][i]) % 12 - (root > 6 ? 12 : 0);
        int inv = (int)(hrng(&s) % nt);
        for (int i = 0; i < inv; i++) tones[i] += 12;
        int bass = 36 + root;
        double t0 = b * 4.0;
        switch (style) {
        case BLOCK:
            notes[n++] = (hnote){t0, t0 + 3.9, bass, 90};
            for (int i = 0; i < nt; i++) notes[n++] = (hnote){t0, t0 + 3.9, tones[i], 80};
            break;
        case COMPING: {
            static const double at[3] = {0, 2, 3.5}, len[3] = {1.4, 0.95, 0.45};
            for (int k = 0; k < 3; k++)
                for (int i = 0; i < nt; i++) notes[n++] = (hnote){t0 + at[k], t0 + at[k] + len[k], tones[i], 80};
            break;
        }
        case ARPEGGIO:
            notes[n++] = (hnote){t0, t0 + 1.9, bass, 90};
            for (int k = 0; k < 8; k++) {
                int tone = tones[k % nt] + (k >= nt * ((8 + nt - 1) / nt) / 2 ? 0 : 0);
                notes[n++] = (hnote){t0 + k * 0.5, t0 + k * 0.5 + 0.45, tone, 75};
            }
            break;
        case MELODY_OVER: {
            notes[n++] = (hnote){t0, t0 + 3.9, bass, 90};
            for (int i = 0; i < nt; i++) notes[n++] = (hnote){t0, t0 + 1.9, tones[i], 70};
            /* a melody of chord tones and scale steps between them, an octave up */
            static const int major_scale[7] = {0, 2, 4, 5, 7, 9, 11};
            for (int k = 0; k < 4; k++) {
                int pc = k % 2 == 0 ? (root + iv_of[q][(k / 2) % nt < 3 ? (k / 2) % nt : 0]) % 12
                                    : (key + major_scale[hrng(&s) % 7]) % 12;
                notes[n++] = (hnote){t0 + k, t0 + k + 0.9, 72 + pc, 85};
            }
            break;
        }
        }
    }
    return n;
}

TEST(listen_harmony_chord_accuracy_on_generated_progressions)
{
    static hnote notes[8192];
    static hchord truth[64];
    static const double min_acc[NSTYLES] = {0.95, 0.9, 0.72, 0.7};
    for (int style = 0; style < NSTYLES; style++) {
        hscore total = {0, 0, 0};
        for (uint64_t seed = 1; seed <= 24; seed++) {
            int n = gen_progression(style, seed * 7919 + (uint64_t)style, notes, truth, 16);
            hscore r = run_chords(notes, n, truth, 16, verbose() && seed == 1 && style == ARPEGGIO);
            total.steps += r.steps;
            total.exact += r.exact;
            total.root += r.root;
        }
        double acc = (double)total.exact / total.steps;
        if (lt_report())
            printf("  %-30s chord exact %.1f %% (root %.1f %%) over %d sixteenths, 24 progressions in random keys\n",
                   style_names[style], 100 * acc, 100.0 * total.root / total.steps, total.steps);
        CHECKF(acc >= min_acc[style], "%s: exact accuracy %.3f", style_names[style], acc);
    }
}

/* A chord on every beat, I IV V I | vi ii V I, in one key for 8 bars, then in another: beats from
 * the change until the old key is let go, and until the new key is named. */
static double key_change_delay(int from, int to, double *left, int *wrong_first)
{
    static const int prog[8][3] = {{0, 4, 7}, {5, 9, 0}, {7, 11, 2}, {0, 4, 7},
                                   {9, 0, 4}, {2, 5, 9}, {7, 11, 2}, {0, 4, 7}};
    bm_harmony h;
    harmony_init(&h);
    *wrong_first = 0;
    *left = -1;
    for (int beat = 0; beat < 96; beat++) {
        int key = beat < 32 ? from : to;
        const int *ch = prog[beat % 8];
        double t = beat;
        for (int i = 0; i < 3; i++) harmony_note_on(&h, 60 + (key + ch[i]) % 12, 80, t);
        harmony_note_on(&h, 48 + (key + ch[0]) % 12, 90, t);
        for (double u = t; u < t + 1; u += 0.25) {
            harmony_update(&h, u);
            if (beat >= 32 && *left < 0 && (h.key_root != from % 12 || h.key_minor)) *left = u - 32.0;
            if (beat >= 32 && h.key_root == to % 12 && !h.key_minor) return u - 32.0;
            if (beat >= 32 && *left >= 0) *wrong_first = 1;
        }
        for (int i = 0; i < 3; i++) harmony_note_off(&h, 60 + (key + ch[i]) % 12, t + 0.95);
        harmony_note_off(&h, 48 + (key + ch[0]) % 12, t + 0.95);
        if (beat == 31) CHECKF(h.key_root == from % 12 && !h.key_minor, "the first key was not recognised");
    }
    return -1;
}

TEST(listen_harmony_key_change_detection_delay)
{
    double named[11], left[11];
    int wrong = 0, n = 0;
    for (int to = 1; to < 12; to++) {
        int w;
        double d = key_change_delay(0, to, &left[n], &w);
        CHECKF(d >= 0, "the change from C to %d major was never recognised", to);
        named[n++] = d;
        wrong += w;
    }
    double med = lt_percentile(named, n, 50), mx = lt_percentile(named, n, 100);
    if (lt_report())
        printf("  key change C major -> each other major key (I IV V I | vi ii V I, a chord a beat): old key let go "
               "after %.2f beats (median), new key named after %.2f beats (median), %.2f (max); %d of 11 named "
               "another key first\n", lt_percentile(left, n, 50), med, mx, wrong);
    CHECKF(med <= 12 && mx <= 20, "key change delay median %.2f beats, max %.2f", med, mx);
}

TEST(listen_harmony_reports_no_chord_before_any_note_and_minor_keys)
{
    bm_harmony h;
    harmony_init(&h);
    harmony_update(&h, 4);
    CHECK_EQ_INT(h.chord_root, -1);
    CHECK_EQ_INT(h.key_root, -1);
    /* A minor: i iv V i with the raised seventh */
    static const int prog[4][4] = {{9, 0, 4, 45}, {2, 5, 9, 38}, {4, 8, 11, 40}, {9, 0, 4, 45}};
    for (int bar = 0; bar < 8; bar++)
        for (int i = 0; i < 4; i++) {
            int note = i < 3 ? 60 + prog[bar % 4][i] : prog[bar % 4][3];
            harmony_note_on(&h, note, 80, bar * 4.0);
            harmony_note_off(&h, note, bar * 4.0 + 3.8);
        }
    harmony_update(&h, 32);
    CHECK_EQ_INT(h.key_root, 9);
    CHECK_EQ_INT(h.key_minor, 1);
    bm_listen_state st;
    listen_state_clear(&st);
    harmony_fill(&h, &st);
    CHECK(st.key_confidence > 0);
    char buf[32];
    CHECK(!strcmp(listen_key_name(st.key_root, st.key_minor, buf, 32), "A minor"));
    CHECK(!strcmp(listen_chord_name(2, BM_CHORD_MIN7, buf, 32), "Dm7"));
    CHECK(!strcmp(listen_chord_name(7, BM_CHORD_DOM7, buf, 32), "G7"));
    CHECK_EQ_INT(listen_chord_quality_from_name("m7b5"), BM_CHORD_HALFDIM7);
}

TEST(listen_harmony_key_holds_through_borrowed_chords)
{
    /* C major for 32 bars: I vi ii V7, with a secondary dominant (D7) and a borrowed iv (Fm) */
    static const int prog[8][4] = {{0, 4, 7, -1}, {9, 0, 4, -1}, {2, 6, 9, 0}, {7, 11, 2, 5},
                                   {0, 4, 7, -1}, {5, 8, 0, -1}, {2, 5, 9, -1}, {7, 11, 2, 5}};
    bm_harmony h;
    harmony_init(&h);
    int changes_after_first = -1;
    for (int bar = 0; bar < 32; bar++) {
        const int *ch = prog[bar % 8];
        double t = bar * 4.0;
        for (int i = 0; i < 4 && ch[i] >= 0; i++) harmony_note_on(&h, 60 + ch[i], 80, t);
        harmony_note_on(&h, 48 + ch[0], 90, t);
        for (double u = t; u < t + 4; u += 0.25) harmony_update(&h, u);
        for (int i = 0; i < 4 && ch[i] >= 0; i++) harmony_note_off(&h, 60 + ch[i], t + 3.9);
        harmony_note_off(&h, 48 + ch[0], t + 3.9);
        if (bar == 3) changes_after_first = (int)h.key_changes;
    }
    CHECK_EQ_INT(h.key_root, 0);
    CHECK_EQ_INT(h.key_minor, 0);
    CHECKF(h.key_changes == (uint32_t)changes_after_first, "the key changed %u times in a song in C",
           h.key_changes - (uint32_t)changes_after_first);
}
