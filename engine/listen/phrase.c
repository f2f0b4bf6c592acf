/* phrase.c: phrase boundaries from rests, bar lines and explicit ends. */
#include "engine/listen/phrase.h"
#include "engine/listen/listen_state.h"

#include <math.h>
#include <string.h>

#define BAR_REST 0.5   /* beats of rest before a bar line for it to end a phrase */

void phrase_init(bm_phrase_tracker *p, double gap, int bar_ends)
{
    memset(p, 0, sizeof *p);
    p->gap = gap > 0 ? gap : 1.0;
    p->bar_ends = bar_ends;
}

int phrase_note_on(bm_phrase_tracker *p, int note, int64_t frame, double beat)
{
    int started = 0;
    note &= 127;
    if (p->held[note] < 255) p->held[note]++;
    if (!p->in_phrase) {
        p->in_phrase = 1;
        memset(&p->cur, 0, sizeof p->cur);
        p->cur.start = beat;
        p->cur.start_frame = frame;
        started = 1;
    }
    p->cur.notes++;
    p->sounding++;
    if (beat > p->last_off) {
        p->last_off = beat;
        p->last_off_frame = frame;
    }
    return started;
}

void phrase_note_off(bm_phrase_tracker *p, int note, int64_t frame, double beat)
{
    note &= 127;
    if (!p->held[note]) return;
    p->held[note]--;
    if (p->sounding > 0) p->sounding--;
    if (!p->in_phrase) return;
    if (beat > p->last_off || p->sounding == 0) {
        p->last_off = beat;
        p->last_off_frame = frame;
    }
}

static int finish(bm_phrase_tracker *p, int reason, bm_phrase *out)
{
    p->cur.end = p->last_off;
    p->cur.end_frame = p->last_off_frame;
    p->cur.reason = reason;
    *out = p->cur;
    p->in_phrase = 0;
    p->ended++;
    return 1;
}

int phrase_poll(bm_phrase_tracker *p, double prev_beat, double beat, int beats_per_bar, bm_phrase *out)
{
    if (!p->in_phrase || p->sounding > 0) return 0;
    if (beat - p->last_off >= p->gap) return finish(p, BM_PHRASE_GAP, out);
    if (p->bar_ends && beats_per_bar > 0) {
        double bar = floor(beat / beats_per_bar) * beats_per_bar; /* the latest bar line */
        if (bar > prev_beat && bar <= beat && bar - p->last_off >= BAR_REST && p->last_off > p->cur.start)
            return finish(p, BM_PHRASE_BAR, out);
    }
    return 0;
}

int phrase_end_now(bm_phrase_tracker *p, int64_t frame, double beat, bm_phrase *out)
{
    if (!p->in_phrase) return 0;
    if (p->sounding > 0 || beat < p->last_off) {
        p->last_off = beat;
        p->last_off_frame = frame;
    }
    p->sounding = 0; /* held notes belong to the phrase that ended; their releases are ignored */
    memset(p->held, 0, sizeof p->held);
    return finish(p, BM_PHRASE_EXPLICIT, out);
}
