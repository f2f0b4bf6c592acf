/* test_sched.c: sample-accurate, ordered emission; late events played at once and counted. */
#include "test.h"
#include "engine/sched.h"

static void *allocated;

static void release(void) { free(allocated); }

static sched *make(size_t cap)
{
    allocated = malloc(sched_memneeded(cap));
    atexit(release);
    return sched_init(allocated, cap);
}

TEST(sched_emits_frame_and_beat_events_in_their_period_in_order)
{
    sched *s = make(256);
    bm_clock c;
    clock_init(&c, 48000, 120, 4, 4, 4); /* 24000 frames per beat */
    bm_event ev = {0};
    ev.type = BM_EV_NOTE_ON;
    int64_t frames[] = {700, 65, 64, 0, 63, 130};
    for (int i = 0; i < 6; i++) {
        ev.frame = frames[i];
        ev.note = (uint8_t)i;
        CHECK(sched_insert(s, &ev) == 0);
    }
    ev.flags = BM_EVF_BEAT;
    ev.beat = 0.5 / 24000 * 128; /* frame 64: ties with the frame event inserted earlier */
    ev.note = 100;
    CHECK(sched_insert(s, &ev) == 0);
    bm_event out[16];
    int n = sched_collect(s, &c, 0, 64, out, 16);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(out[0].frame, 0);
    CHECK_EQ_INT(out[1].frame, 63);
    n = sched_collect(s, &c, 64, 64, out, 16);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(out[0].frame, 64);
    CHECK_EQ_INT(out[0].note, 2);   /* inserted first */
    CHECK_EQ_INT(out[1].frame, 64);
    CHECK_EQ_INT(out[1].note, 100);
    CHECK_EQ_INT(out[2].frame, 65);
    CHECK_EQ_INT(s->late, 0);
    n = sched_collect(s, &c, 128, 64, out, 16);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(out[0].frame, 130);
    /* the event at 700 is late if the scheduler only looks from 1024 on */
    n = sched_collect(s, &c, 1024, 64, out, 16);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(out[0].frame, 1024);
    CHECK(out[0].flags & BM_EVF_LATE);
    CHECK_EQ_INT(s->late, 1);
    CHECK_EQ_INT(s->max_late_frames, 324);
    CHECK_EQ_INT(sched_pending(s), 0);
}

TEST(sched_beat_events_follow_a_tempo_change_made_after_they_were_queued)
{
    sched *s = make(16);
    bm_clock c;
    clock_init(&c, 48000, 120, 4, 4, 4);
    bm_event ev = {0};
    ev.type = BM_EV_NOTE_ON;
    ev.flags = BM_EVF_BEAT;
    ev.beat = 2.0;
    sched_insert(s, &ev);
    clock_set_tempo(&c, 24000, 60); /* beat 1 at frame 24000, then 48000 frames per beat */
    bm_event out[4];
    int64_t got = -1;
    for (int64_t start = 0; start < 200000 && got < 0; start += 256)
        if (sched_collect(s, &c, start, 256, out, 4) == 1) got = out[0].frame;
    CHECK_EQ_INT(got, 72000);
}

TEST(sched_full_refuses_and_counts_never_silently)
{
    sched *s = make(4);
    bm_event ev = {0};
    for (int i = 0; i < 4; i++) CHECK(sched_insert(s, &ev) == 0);
    CHECK(sched_insert(s, &ev) == -1);
    CHECK_EQ_INT(s->dropped, 1);
}

TEST(sched_overflowing_period_carries_over_as_late)
{
    sched *s = make(64);
    bm_clock c;
    clock_init(&c, 48000, 120, 4, 4, 4);
    bm_event ev = {0};
    for (int i = 0; i < 10; i++) {
        ev.frame = i;
        sched_insert(s, &ev);
    }
    bm_event out[4];
    CHECK_EQ_INT(sched_collect(s, &c, 0, 64, out, 4), 4);
    CHECK_EQ_INT(sched_collect(s, &c, 64, 64, out, 4), 4);
    CHECK(out[0].flags & BM_EVF_LATE);
    CHECK_EQ_INT(out[0].frame, 64);
}

static int keep_note_offs(const bm_event *ev) { return ev->type == BM_EV_NOTE_OFF; }

TEST(sched_remove_keeps_note_offs_of_a_silenced_part)
{
    sched *s = make(64);
    bm_event ev = {0};
    for (int i = 0; i < 20; i++) {
        ev.frame = 100 - i;
        ev.part = (uint8_t)(i % 2);
        ev.type = (i % 4) < 2 ? BM_EV_NOTE_ON : BM_EV_NOTE_OFF;
        sched_insert(s, &ev);
    }
    CHECK_EQ_INT(sched_remove(s, 1, keep_note_offs), 5);
    bm_clock c;
    clock_init(&c, 48000, 120, 4, 4, 4);
    bm_event out[32];
    int n = sched_collect(s, &c, 0, 200, out, 32);
    CHECK_EQ_INT(n, 15);
    for (int i = 1; i < n; i++) CHECK(out[i].frame >= out[i - 1].frame);
}
