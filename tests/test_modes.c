/* test_modes.c: the performance modes played through the offline driver with the shipped model:
 * call and response answers each phrase soon, in key, at the call's length, and yields when the
 * performer comes back in; the duet plays alongside without doubling, mostly consonant; switching
 * modes mid-render keeps the rhythm section going and leaves no note hanging; Lua, OSC and the mode
 * controller switch them. */
#include "test.h"
#include "test_lua_harness.h"
#include "engine/control/midimap.h"
#include "engine/offline.h"
#include "engine/smf.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#define SR 48000
#define FRAMES_PER_BEAT 24000 /* 120 BPM */
#define TPQ 480
#define MAX_OUT 40000
#define CH_LEAD 3

typedef struct capture {
    int n;
    int64_t frame[MAX_OUT];
    uint8_t b[MAX_OUT][3];
} capture;

static capture cap;

static void on_midi(void *ctx, int64_t frame, const uint8_t *b, size_t n)
{
    capture *c = ctx;
    if (c->n < MAX_OUT && n == 3) {
        c->frame[c->n] = frame;
        memcpy(c->b[c->n], b, 3);
        c->n++;
    }
}

/* A performer's note: start and length in beats. */
typedef struct pnote {
    double start, len;
    int pitch;
} pnote;

static void write_performer(const char *path, const pnote *notes, int n)
{
    smf *s = smf_new(TPQ);
    smf_add_track(s, "human");
    smf_add_tempo(s, 0, 0, 500000);
    for (int i = 0; i < n; i++) {
        uint8_t on[3] = {0x90, (uint8_t)notes[i].pitch, 96}, off[3] = {0x80, (uint8_t)notes[i].pitch, 0};
        smf_add_midi(s, 0, (uint64_t)llround(notes[i].start * TPQ), on, 3);
        smf_add_midi(s, 0, (uint64_t)llround((notes[i].start + notes[i].len) * TPQ), off, 3);
    }
    char err[256];
    if (smf_write_file(s, path, err, sizeof err) != 0) test_fail(__FILE__, __LINE__, "%s", err);
    smf_free(s);
}

/* A switch of mode at a beat, made from the control side during the render. */
typedef struct switch_plan {
    const double *beat;
    const char *const *mode;
    int n, next;
} switch_plan;

static void on_period(void *ctx, bm_engine *e, int64_t start, uint32_t nframes)
{
    switch_plan *p = ctx;
    (void)nframes;
    while (p->next < p->n && start >= p->beat[p->next] * FRAMES_PER_BEAT) {
        char err[256];
        if (engine_set_mode(e, p->mode[p->next], err, sizeof err) != 0) test_fail(__FILE__, __LINE__, "%s", err);
        p->next++;
    }
}

static void on_both(void *ctx, int64_t frame, const uint8_t *b, size_t n) { on_midi(&cap, frame, b, n); (void)ctx; }

/* Renders the performer in a mode (with optional switches); the band's MIDI lands in cap. */
static void render(const char *mode, const pnote *notes, int n, switch_plan *plan)
{
    CHECKF(access("models/musician.bmnn", R_OK) == 0, "the shipped model models/musician.bmnn is missing");
    write_performer(test_path("performer.mid"), notes, n);
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    snprintf(cfg.mode, sizeof cfg.mode, "%s", mode);
    cfg.seed = 7;
    bm_render_opts o;
    render_opts_defaults(&o);
    o.in_mid = test_path("performer.mid");
    o.on_midi_out = on_both;
    if (plan) {
        o.on_period = on_period;
        o.ctx = plan;
    }
    memset(&cap, 0, sizeof cap);
    bm_render_result res;
    char err[512];
    CHECKF(render_file(&cfg, &o, &res, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(res.late_steps, 0);
    CHECK(cap.n < MAX_OUT);
}

static int is_on(int i) { return (cap.b[i][0] & 0xf0) == 0x90 && cap.b[i][2] > 0; }
static int is_off(int i) { return (cap.b[i][0] & 0xf0) == 0x80 || ((cap.b[i][0] & 0xf0) == 0x90 && cap.b[i][2] == 0); }
static int chan(int i) { return cap.b[i][0] & 0x0f; }
static double beat_of(int i) { return (double)cap.frame[i] / FRAMES_PER_BEAT; }

/* Every note-on of the band has its note-off within 8 beats (but those the render's end cuts). */
static void check_nothing_hangs(void)
{
    double end = cap.n ? beat_of(cap.n - 1) : 0;
    for (int i = 0; i < cap.n; i++) {
        if (!is_on(i) || beat_of(i) > end - 8) continue;
        int released = 0;
        for (int j = i + 1; j < cap.n && !released && beat_of(j) <= beat_of(i) + 8; j++)
            released = chan(j) == chan(i) && cap.b[j][1] == cap.b[i][1] && (is_off(j) || is_on(j));
        CHECKF(released, "note %d on channel %d from beat %.2f hangs", cap.b[i][1], chan(i) + 1, beat_of(i));
    }
}

/* The lead's sounding intervals [on, off) in beats; returns how many. */
static int lead_notes(double *on, double *off, int *pitch, int max)
{
    int n = 0;
    for (int i = 0; i < cap.n && n < max; i++) {
        if (chan(i) != CH_LEAD || !is_on(i)) continue;
        on[n] = beat_of(i);
        off[n] = 1e9;
        pitch[n] = cap.b[i][1];
        for (int j = i + 1; j < cap.n; j++)
            if (chan(j) == CH_LEAD && cap.b[j][1] == cap.b[i][1] && (is_off(j) || is_on(j))) {
                off[n] = beat_of(j);
                break;
            }
        n++;
    }
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define MAJOR_C ((1 << 0) | (1 << 2) | (1 << 4) | (1 << 5) | (1 << 7) | (1 << 9) | (1 << 11))

/* Calls of different lengths in C major, each followed by a long rest. */
static int calls(pnote *p, double *start, double *end, int *ncalls)
{
    static const int tune[] = {60, 62, 64, 67, 65, 64, 62, 60, 64, 67, 69, 67, 72, 71, 67, 65};
    static const double len_beats[] = {3, 6, 2, 4, 5, 3};
    int n = 0;
    double at = 4;
    for (int c = 0; c < 6; c++) {
        start[c] = at;
        int k = 0;
        for (double b = 0; b < len_beats[c] - 1e-9; b += (k % 3 == 2 ? 1.0 : 0.5), k++) {
            p[n].start = at + b;
            p[n].len = (k % 3 == 2 ? 0.9 : 0.45);
            p[n].pitch = tune[(c * 5 + k) % 16];
            if (p[n].start + p[n].len > at + len_beats[c]) p[n].len = at + len_beats[c] - p[n].start;
            end[c] = p[n].start + p[n].len;
            n++;
        }
        at += 16;
    }
    *ncalls = 6;
    return n;
}

TEST_TIMEOUT(modes_call_and_response_answers_each_phrase_soon_in_key_at_its_length, 120)
{
    static pnote p[256];
    double cs[8], ce[8];
    int nc;
    int n = calls(p, cs, ce, &nc);
    render("call-and-response", p, n, NULL);
    static double on[4096], off[4096];
    static int pitch[4096];
    int nl = lead_notes(on, off, pitch, 4096);
    double latency_ms[8];
    int in_key = 0, total = 0;
    for (int c = 0; c < nc; c++) {
        /* nothing on the lead while the performer calls */
        for (int i = 0; i < nl; i++)
            CHECKF(!(on[i] >= cs[c] && on[i] < ce[c]), "the lead played at beat %.2f during call %d (%.2f..%.2f)", on[i],
                   c, cs[c], ce[c]);
        /* the answer: the lead notes between this call's end and the next call */
        double first = -1, last = -1;
        for (int i = 0; i < nl; i++) {
            if (on[i] < ce[c] || (c + 1 < nc && on[i] >= cs[c + 1])) continue;
            if (first < 0) first = on[i];
            last = off[i];
            in_key += MAJOR_C >> (pitch[i] % 12) & 1;
            total++;
        }
        CHECKF(first >= 0, "call %d (%.2f..%.2f) got no answer", c, cs[c], ce[c]);
        latency_ms[c] = (first - ce[c]) * 500.0;
        CHECKF(latency_ms[c] < 500, "call %d was answered %.0f ms after its last note ended", c, latency_ms[c]);
        double call = ce[c] - cs[c], answer = last - first;
        CHECKF(answer > 0.4 * call && answer < call + 1.0, "call %d lasted %.2f beats, its answer %.2f", c, call, answer);
    }
    CHECKF(in_key >= 0.85 * total, "%d of %d answering notes were in C major", in_key, total);
    qsort(latency_ms, (size_t)nc, sizeof latency_ms[0], cmp_double);
    printf("call and response: %d calls answered, latency median %.0f ms (min %.0f, max %.0f), %d notes, %d in key\n", nc,
           0.5 * (latency_ms[nc / 2 - 1] + latency_ms[nc / 2]), latency_ms[0], latency_ms[nc - 1], total, in_key);
    check_nothing_hangs();
}

TEST_TIMEOUT(modes_call_and_response_yields_when_the_performer_comes_back, 120)
{
    /* short calls, then the performer comes back in a beat after each ends, while the answer plays */
    static pnote p[256];
    int n = 0;
    double reentry[16];
    int nr = 0;
    for (int c = 0; c < 8; c++) {
        double at = 4 + c * 6;
        for (int k = 0; k < 4; k++) p[n++] = (pnote){at + k * 0.5, 0.4, 60 + 2 * k};
        /* the call ends at at + 1.9; its answer starts about half a beat later; the performer is
         * back at at + 3 */
        if (c < 7) reentry[nr++] = at + 6;
    }
    render("call-and-response", p, n, NULL);
    static double on[4096], off[4096];
    static int pitch[4096];
    int nl = lead_notes(on, off, pitch, 4096);
    int answered = 0;
    for (int r = 0; r < nr; r++) {
        double back = reentry[r];
        for (int i = 0; i < nl; i++) {
            if (on[i] < back - 4 + 1.9) continue; /* before the previous call's end */
            if (on[i] < back) answered++;
            /* a lead note sounding when the performer is back is released within half a beat */
            if (on[i] < back && off[i] > back)
                CHECKF(off[i] <= back + 0.5, "the answer held %d from %.2f to %.2f over the performer at %.2f", pitch[i],
                       on[i], off[i], back);
            CHECKF(!(on[i] >= back && on[i] < back + 1.9), "the lead started %d at %.2f over the performer (back at %.2f)",
                   pitch[i], on[i], back);
        }
    }
    CHECKF(answered > 0, "no answers at all");
    check_nothing_hangs();
}

TEST_TIMEOUT(modes_duet_plays_alongside_without_doubling_mostly_consonant, 120)
{
    /* eight bars of a melody in long and short notes */
    static pnote p[256];
    static const int tune[] = {72, 74, 76, 79, 77, 76, 74, 72, 76, 79, 81, 79, 84, 83, 79, 77};
    int n = 0;
    double at = 4;
    for (int k = 0; at < 36; k++) {
        double len = k % 4 == 3 ? 2.0 : k % 4 == 0 ? 1.0 : 0.5;
        p[n++] = (pnote){at, len - 0.05, tune[k % 16]};
        at += len;
    }
    render("duet", p, n, NULL);
    static double on[4096], off[4096];
    static int pitch[4096];
    int nl = lead_notes(on, off, pitch, 4096);
    int along = 0, with = 0, unison = 0, consonant = 0, below = 0;
    for (int i = 0; i < nl; i++) {
        for (int k = 0; k < n; k++) {
            if (off[i] <= p[k].start || on[i] >= p[k].start + p[k].len) continue;
            along++; /* sounding together */
            /* the band can only hear a note a little after it starts */
            if (on[i] < p[k].start + 0.25) continue;
            with++;
            int d = abs(pitch[i] - p[k].pitch);
            unison += d == 0;
            int ic = d % 12;
            consonant += ic == 3 || ic == 4 || ic == 8 || ic == 9 || ic == 7 || ic == 5 || (ic == 0 && d > 0);
            below += pitch[i] < p[k].pitch;
        }
    }
    printf("duet: %d lead notes, %d sounding with the performer's, %d started within one, %d of those consonant, "
           "%d below, %d unisons\n", nl, along, with, consonant, below, unison);
    CHECKF(along >= 20, "the duet sounded %d notes with the performer's %d", along, n);
    CHECKF(with >= 6, "the duet started only %d notes within the performer's", with);
    CHECKF(unison == 0, "the duet doubled the performer %d times", unison);
    CHECKF(consonant >= 0.75 * with, "%d of %d duet notes were consonant with the performer", consonant, with);
    CHECKF(below >= 0.8 * with, "%d of %d duet notes were below a high performer", below, with);
    check_nothing_hangs();
}

TEST_TIMEOUT(modes_switching_live_keeps_the_band_playing_and_nothing_hangs, 120)
{
    /* the performer plays throughout; the mode changes every four bars */
    static pnote p[512];
    int n = 0;
    for (double b = 2; b < 58; b += 0.5)
        if (fmod(b, 8) < 6) p[n++] = (pnote){b, 0.4, 64 + ((int)(b * 2) * 5) % 12};
    static const double at[] = {10, 18, 26, 34, 42, 50};
    static const char *const to[] = {"duet", "call-and-response", "accompany", "duet", "echo", "duet"};
    switch_plan plan = {at, to, 6, 0};
    render("accompany", p, n, &plan);
    CHECK_EQ_INT(plan.next, 6);
    /* the rhythm section: an onset in every two beats from the second bar to the switch into echo, and
     * again once the musician is back */
    for (double b = 4; b < 56; b += 1) {
        if (b >= 41 && b < 51) continue; /* echo has no rhythm section */
        int onsets = 0;
        for (int i = 0; i < cap.n; i++)
            if (is_on(i) && chan(i) != CH_LEAD && beat_of(i) >= b && beat_of(i) < b + 2) onsets++;
        CHECKF(onsets > 0, "the band's bass, drums and comping were silent in beats %.0f..%.0f", b, b + 2);
    }
    /* into call and response with the performer playing: the lead stops within half a beat */
    static double on[4096], off[4096];
    static int pitch[4096];
    int nl = lead_notes(on, off, pitch, 4096);
    int duet_notes = 0;
    for (int i = 0; i < nl; i++) {
        if (on[i] >= 10.1 && on[i] < 18) duet_notes++;
        if (on[i] < 18 && off[i] > 18.5)
            CHECKF(0, "a duet note (%d from %.2f) sounded until %.2f, past the switch at 18", pitch[i], on[i], off[i]);
    }
    CHECKF(duet_notes > 4, "the duet played %d notes in its four bars", duet_notes);
    check_nothing_hangs();
}

TEST_TIMEOUT(modes_switch_from_lua_osc_and_the_mode_controller, 60)
{
    CHECKF(access("models/musician.bmnn", R_OK) == 0, "the shipped model models/musician.bmnn is missing");
    harness h;
    char err[1024];
    const char *path = h_write("modes.lua", "function init() bm.mode('duet') end\n"
                                            "function on_osc(path, ...) if path == '/test/cr' then bm.mode('call-and-response') end end\n");
    CHECKF(h_open(&h, "accompany", path, NULL, err, sizeof err) == 0, "%s", err);
    h_run(&h, 0.5);
    CHECKF(!strcmp(engine_mode(h.e), "duet"), "the mode is %s, not %s", engine_mode(h.e), "duet");
    h_send(&h, "/test/cr", "");
    h_run(&h, 0.2);
    CHECKF(!strcmp(engine_mode(h.e), "call-and-response"), "the mode is %s, not %s", engine_mode(h.e), "call-and-response");
    /* OSC, by name */
    h_send(&h, "/bm/mode", "s", "accompany");
    h_run(&h, 0.2);
    CHECK(h_replied(&h, "/bm/done mode accompany"));
    CHECKF(!strcmp(engine_mode(h.e), "accompany"), "the mode is %s, not %s", engine_mode(h.e), "accompany");
    /* the mode controller: its range split evenly between the modes, in their order */
    static const struct { int value; const char *mode; } cc[] = {
        {110, "duet"}, {90, "call-and-response"}, {60, "accompany"}, {30, "silent"}, {5, "echo"}, {127, "duet"}};
    for (size_t i = 0; i < sizeof cc / sizeof cc[0]; i++) {
        h_midi_in(&h, 0xB0 | 4, BM_MODE_CC, (uint8_t)cc[i].value);
        h_run(&h, 0.2);
        CHECKF(!strcmp(engine_mode(h.e), cc[i].mode), "CC %d value %d gave mode %s, not %s", BM_MODE_CC, cc[i].value,
               engine_mode(h.e), cc[i].mode);
    }
    h_send(&h, "/bm/param/mode/get", "");
    CHECK(h_replied(&h, "/bm/param/mode duet"));
    /* the band played on through all of it */
    h_run(&h, 2.0);
    CHECK(h_notes(&h, 1) > 0);
    h_close(&h);
}
