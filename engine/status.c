/* status.c: the live status line and the session summary. */
#include "engine/status.h"

#include <math.h>
#include <string.h>

void status_init(bm_status *s, bm_engine *e, bm_jack *jack, const char *mode)
{
    memset(s, 0, sizeof *s);
    s->e = e;
    s->jack = jack;
    snprintf(s->mode, sizeof s->mode, "%s", mode);
    s->parts_on = (1u << BM_NUM_PARTS) - 1;
}

const char *status_note_name(int note, char *buf, size_t cap)
{
    static const char *const names[12] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
    snprintf(buf, cap, "%s%d", names[((note % 12) + 12) % 12], note / 12 - 1);
    return buf;
}

void status_take_event(bm_status *s, const bm_event *ev)
{
    if (ev->type == BM_EV_NOTE_ON) {
        if (ev->part == BM_PART_HUMAN) s->human_notes++;
        else s->band_notes++;
    } else if (ev->type == BM_EV_BEAT) {
        s->beats++;
    }
}

static double now_beat(bm_status *s)
{
    bm_clock_map map;
    clock_read_published(engine_clock(s->e), &map);
    int64_t frame, ns;
    engine_time_anchor(s->e, &frame, &ns);
    return clock_map_beat_at(&map, frame);
}

void status_take_plan(bm_status *s, const bm_event *ev)
{
    if (!(ev->flags & BM_EVF_PREVIEW) && ev->type == BM_EV_NOTE_ON && ev->velocity > 0 &&
        (!s->has_last || ev->beat >= s->last.beat)) {
        s->last = *ev;
        s->has_last = 1;
    }
    if (ev->beat < now_beat(s)) return;
    if (s->nplan == BM_STATUS_PLAN) {
        memmove(s->plan, s->plan + 1, (BM_STATUS_PLAN - 1) * sizeof *ev);
        s->nplan--;
    }
    s->plan[s->nplan++] = *ev;
}

void status_poll(bm_status *s)
{
    double now = now_beat(s);
    int w = 0;
    for (int i = 0; i < s->nplan; i++)
        if (s->plan[i].beat >= now) s->plan[w++] = s->plan[i];
    s->nplan = w;
}

void status_print(bm_status *s, FILE *f, int tty)
{
    const bm_engine_stats *st = engine_stats(s->e);
    bm_clock_map map;
    clock_read_published(engine_clock(s->e), &map);
    int64_t frame, ns;
    engine_time_anchor(s->e, &frame, &ns);
    double beat = clock_map_beat_at(&map, frame);
    long whole = (long)floor(beat < 0 ? 0 : beat);
    const bm_engine_config *cfg = engine_config(s->e);
    char parts[16] = "", *p = parts;
    static const char letters[BM_NUM_PARTS] = {'H', 'B', 'D', 'C', 'L'};
    for (int i = 1; i < BM_NUM_PARTS; i++) *p++ = (cfg->audio_parts | cfg->midi_out_parts) & s->parts_on & (1u << i) ? letters[i] : '-';
    *p = 0;
    double period_us = s->jack ? jack_driver_buffer_size(s->jack) / map.sample_rate * 1e6 : 0;
    double worst = (double)atomic_load(&st->max_cycle_ns) / 1000.0;
    char next[96] = "";
    if (s->nplan) {
        char n[8];
        const bm_event *ev = &s->plan[0];
        for (int i = 1; i < s->nplan; i++) /* the soonest, planned or expected */
            if (s->plan[i].beat < ev->beat) ev = &s->plan[i];
        snprintf(next, sizeof next, " next %s %s in %.1f beat", bm_part_name(ev->part),
                 status_note_name(ev->note, n, sizeof n), ev->beat - beat);
    } else if (s->has_last) { /* the band plans a step ahead: between steps, what it played last */
        char n[8];
        snprintf(next, sizeof next, " last %s %s %.1f beat ago", bm_part_name(s->last.part),
                 status_note_name(s->last.note, n, sizeof n), beat - s->last.beat);
    }
    fprintf(f, "%s%6.1f BPM %4ld:%ld %s%-7s [%s] cpu %4.1f%% worst %.0f/%.0f us xruns %llu late %llu%s%s",
            tty ? "\r" : "", map.bpm, whole / map.beats_per_bar + 1, whole % map.beats_per_bar + 1,
            map.rolling ? "" : "(stopped) ", s->mode, parts, s->jack ? jack_driver_cpu_load(s->jack) : 0.0,
            worst, period_us, (unsigned long long)(s->jack ? jack_driver_xruns(s->jack) : atomic_load(&st->xruns)),
            (unsigned long long)atomic_load(&st->late_events), next, tty ? "\033[K" : "\n");
    fflush(f);
}

void status_summary(bm_status *s, FILE *f)
{
    const bm_engine_stats *st = engine_stats(s->e);
    const bm_musician_stats *ms = engine_musician_stats(s->e);
    fprintf(f, "session: %llu performer notes, %llu band notes, %llu xruns, %llu late events, %llu late steps\n",
            (unsigned long long)atomic_load(&st->human_notes), (unsigned long long)atomic_load(&st->band_notes),
            (unsigned long long)(s->jack ? jack_driver_xruns(s->jack) : atomic_load(&st->xruns)),
            (unsigned long long)atomic_load(&st->late_events), (unsigned long long)atomic_load(&ms->late_steps));
    fprintf(f, "callback: %llu periods, p99 %.0f us, p99.9 %.0f us, max %.0f us\n",
            (unsigned long long)atomic_load(&st->cycles), engine_cycle_percentile_us(st, 99),
            engine_cycle_percentile_us(st, 99.9), (double)atomic_load(&st->max_cycle_ns) / 1000.0);
}
