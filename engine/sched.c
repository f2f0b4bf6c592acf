/* sched.c: two binary heaps (frame-stamped and beat-stamped events) merged per period. */
#include "engine/sched.h"

#include <string.h>

size_t sched_memneeded(size_t capacity) { return sizeof(sched) + 2 * capacity * sizeof(sched_item); }

sched *sched_init(void *mem, size_t capacity)
{
    sched *s = mem;
    memset(s, 0, sizeof *s);
    s->by_frame = (sched_item *)(s + 1);
    s->by_beat = s->by_frame + capacity;
    s->capacity = capacity;
    return s;
}

static int less_frame(const sched_item *a, const sched_item *b)
{
    return a->ev.frame != b->ev.frame ? a->ev.frame < b->ev.frame : a->seq < b->seq;
}

static int less_beat(const sched_item *a, const sched_item *b)
{
    return a->ev.beat != b->ev.beat ? a->ev.beat < b->ev.beat : a->seq < b->seq;
}

typedef int (*less_fn)(const sched_item *, const sched_item *);

static void sift_up(sched_item *h, size_t i, less_fn less)
{
    sched_item x = h[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!less(&x, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static void sift_down(sched_item *h, size_t n, size_t i, less_fn less)
{
    sched_item x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && less(&h[c + 1], &h[c])) c++;
        if (!less(&h[c], &x)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static void heap_pop(sched_item *h, size_t *n, less_fn less)
{
    h[0] = h[--*n];
    if (*n) sift_down(h, *n, 0, less);
}

int sched_insert(sched *s, const bm_event *ev)
{
    int beat = (ev->flags & BM_EVF_BEAT) != 0;
    size_t *n = beat ? &s->n_beat : &s->n_frame;
    sched_item *h = beat ? s->by_beat : s->by_frame;
    if (*n == s->capacity) {
        s->dropped++;
        return -1;
    }
    h[*n].ev = *ev;
    h[*n].seq = s->next_seq++;
    sift_up(h, (*n)++, beat ? less_beat : less_frame);
    return 0;
}

int sched_collect(sched *s, const bm_clock *c, int64_t start, uint32_t nframes, bm_event *out, int max)
{
    int64_t end = start + (int64_t)nframes;
    int n = 0;
    while (n < max) {
        int have_f = s->n_frame > 0 && s->by_frame[0].ev.frame < end;
        int64_t beat_frame = 0;
        int have_b = 0;
        if (s->n_beat > 0) {
            beat_frame = clock_frame_at(c, s->by_beat[0].ev.beat);
            have_b = beat_frame < end;
        }
        if (!have_f && !have_b) break;
        int take_beat;
        if (have_f && have_b) {
            const sched_item *f = &s->by_frame[0], *b = &s->by_beat[0];
            take_beat = beat_frame != f->ev.frame ? beat_frame < f->ev.frame : b->seq < f->seq;
        } else {
            take_beat = have_b;
        }
        bm_event ev;
        if (take_beat) {
            ev = s->by_beat[0].ev;
            ev.frame = beat_frame;
            heap_pop(s->by_beat, &s->n_beat, less_beat);
        } else {
            ev = s->by_frame[0].ev;
            heap_pop(s->by_frame, &s->n_frame, less_frame);
        }
        if (ev.frame < start) {
            if (start - ev.frame > s->max_late_frames) s->max_late_frames = start - ev.frame;
            ev.frame = start;
            ev.flags |= BM_EVF_LATE;
            s->late++;
        }
        out[n++] = ev;
    }
    return n;
}

static int filter_heap(sched_item *h, size_t *n, int part, int (*keep)(const bm_event *), less_fn less)
{
    size_t w = 0;
    int removed = 0;
    for (size_t i = 0; i < *n; i++) {
        if ((part < 0 || h[i].ev.part == part) && !keep(&h[i].ev)) {
            removed++;
            continue;
        }
        h[w++] = h[i];
    }
    *n = w;
    for (size_t i = w / 2; i-- > 0;) sift_down(h, w, i, less);
    return removed;
}

int sched_remove(sched *s, int part, int (*keep)(const bm_event *ev))
{
    return filter_heap(s->by_frame, &s->n_frame, part, keep, less_frame) +
           filter_heap(s->by_beat, &s->n_beat, part, keep, less_beat);
}

size_t sched_pending(const sched *s) { return s->n_frame + s->n_beat; }
