/* musician.c: steps the behaviour ahead of time on the beat grid. */
#include "engine/musician.h"
#include "engine/listen/listener.h"
#include "engine/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void musician_init(bm_musician *m, bm_behaviour *b, ring *human_in, ring *band_out, ring *commands,
                   ring *trash, int64_t lookahead_frames, const uint8_t *channels, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->behaviour = b;
    m->human_in = human_in;
    m->band_out = band_out;
    m->commands = commands;
    m->trash = trash;
    m->lookahead_frames = lookahead_frames;
    m->parts_enabled = (1u << BM_NUM_PARTS) - 1;
    m->human_role = BM_PART_HUMAN;
    static const double defaults[BM_NUM_CONTROLS] = {1.0, 0.95, 0.5, -1, 0, -1, 0, 0.3, 0};
    memcpy(m->controls, defaults, sizeof defaults);
    memcpy(m->channel, channels, BM_NUM_PARTS);
    m->rng = seed ? seed : 0x853c49e6748fea9bull;
    listen_state_clear(&m->heard);
}

void musician_deinit(bm_musician *m)
{
    if (m->behaviour) m->behaviour->ops->destroy(m->behaviour);
    m->behaviour = NULL;
    free(m->chart);
    m->chart = NULL;
}

static void push_out(bm_musician *m, const bm_event *ev)
{
    if (ring_push(m->band_out, ev) != 0) {
        atomic_fetch_add_explicit(&m->stats.dropped, 1, memory_order_relaxed);
        return;
    }
    if (m->plan && ev->type == BM_EV_NOTE_ON) ring_push(m->plan, ev); /* visuals may miss some */
    if (ev->part < 8) {
        if (ev->type == BM_EV_NOTE_ON && m->active[ev->part][ev->note] < 255) m->active[ev->part][ev->note]++;
        if (ev->type == BM_EV_NOTE_OFF && m->active[ev->part][ev->note] > 0) m->active[ev->part][ev->note]--;
    }
}

/* Releases the sounding notes of one part (part < 0: all parts) at a beat. */
static void release_notes(bm_musician *m, int part, double beat)
{
    for (int p = 0; p < BM_NUM_PARTS; p++) {
        if (part >= 0 && p != part) continue;
        for (int n = 0; n < 128; n++)
            while (m->active[p][n]) {
                bm_event ev = {0};
                ev.type = BM_EV_NOTE_OFF;
                ev.part = (uint8_t)p;
                ev.channel = m->channel[p];
                ev.note = (uint8_t)n;
                ev.flags = BM_EVF_BEAT;
                ev.beat = beat;
                uint8_t before = m->active[p][n];
                push_out(m, &ev);
                if (m->active[p][n] == before) { /* the ring is full: forget it, the engine's
                                                     all-notes-off will catch it */
                    m->active[p][n] = 0;
                }
            }
    }
}

static bm_step_ctx step_ctx(bm_musician *m, const bm_clock_map *map, int64_t step, double beat, double step_beats)
{
    bm_step_ctx ctx = {
        .step = step,
        .beat = beat,
        .step_beats = step_beats,
        .steps_per_beat = map->steps_per_beat,
        .beats_per_bar = map->beats_per_bar,
        .bpm = map->bpm,
        .parts_enabled = m->parts_enabled & ~(1u << m->human_role),
        .human_role = m->human_role,
        .channel = m->channel,
        .rng = &m->rng,
        .controls = m->controls,
        .heard = &m->heard,
        .chart = m->chart,
    };
    return ctx;
}

/* Primes the behaviour with a phrase placed to end at beat. */
static void prime(bm_musician *m, const bm_clock_map *map, double beat, bm_prime_phrase *p)
{
    if (!m->behaviour || p->n <= 0) return;
    double start = beat - p->length;
    for (int i = 0; i < p->n; i++) p->ev[i].beat += start;
    int spb = map->steps_per_beat > 0 ? map->steps_per_beat : 4;
    bm_step_ctx ctx = step_ctx(m, map, (int64_t)floor(beat * spb), beat, 1.0 / spb);
    if (p->part > BM_PART_HUMAN && p->part < BM_NUM_PARTS) ctx.human_role = p->part;
    behaviour_prime(m->behaviour, &ctx, p->ev, p->n);
}

static void apply_commands(bm_musician *m, const bm_clock_map *map, double beat)
{
    const bm_musician_cmd *peek;
    while ((peek = ring_peek(m->commands))) {
        bm_musician_cmd cmd = *peek;
        /* the old behaviour goes back to the control thread to be freed; if there is no room for
         * it yet, the change waits for the next poll */
        if (cmd.type == BM_MCMD_SET_BEHAVIOUR && m->behaviour && ring_space(m->trash) == 0) break;
        if ((cmd.type == BM_MCMD_SET_CHART && m->chart) || cmd.type == BM_MCMD_PRIME)
            if (!m->give_back || ring_space(m->give_back) == 0) break;
        ring_pop(m->commands, &cmd);
        switch (cmd.type) {
        case BM_MCMD_SET_BEHAVIOUR:
            release_notes(m, -1, beat);
            if (m->behaviour) ring_push(m->trash, &m->behaviour);
            m->behaviour = cmd.ptr;
            break;
        case BM_MCMD_SET_CHART:
            if (m->chart) ring_push(m->give_back, &m->chart);
            m->chart = cmd.ptr;
            break;
        case BM_MCMD_PRIME:
            if (cmd.ptr) {
                prime(m, map, beat, cmd.ptr);
                ring_push(m->give_back, &cmd.ptr);
            }
            break;
        case BM_MCMD_PART_ENABLE:
            if (cmd.part < 0 || cmd.part >= BM_NUM_PARTS) break;
            if (cmd.value) m->parts_enabled |= 1u << cmd.part;
            else {
                m->parts_enabled &= ~(1u << cmd.part);
                release_notes(m, cmd.part, beat);
            }
            break;
        case BM_MCMD_CONTROL:
            if (cmd.part >= 0 && cmd.part < BM_NUM_CONTROLS) {
                m->controls[cmd.part] = cmd.fvalue;
                if (cmd.part == BM_CTL_SEED) m->rng = (uint64_t)cmd.fvalue * 0x9E3779B97F4A7C15ull + 1;
            }
            break;
        case BM_MCMD_SET_MODE: {
            int nmodes = 0;
            while (bm_mode_names[nmodes]) nmodes++;
            if (cmd.value >= 0 && cmd.value < nmodes) behaviour_set_mode(m->behaviour, bm_mode_names[cmd.value]);
            break;
        }
        case BM_MCMD_HUMAN_ROLE:
            if (cmd.part >= 0 && cmd.part < BM_NUM_PARTS) m->human_role = cmd.part;
            break;
        case BM_MCMD_RESET:
            if (m->behaviour) m->behaviour->ops->reset(m->behaviour);
            m->npending = 0;
            bm_event heard; /* and what arrived since */
            while (ring_pop(m->human_in, &heard) == 0) {}
            memset(m->active, 0, sizeof m->active); /* the engine silences everything */
            break;
        }
    }
}

int musician_poll(bm_musician *m, const bm_clock_map *map, int64_t now_frame)
{
    double now_beat = clock_map_beat_at(map, now_frame);
    apply_commands(m, map, now_beat);
    /* hear everything the performer played since the last poll */
    bm_event ev;
    while (ring_pop(m->human_in, &ev) == 0) {
        if (m->npending < BM_MUSICIAN_MAX_PENDING) m->pending[m->npending++] = ev;
    }
    if (!map->rolling || !m->behaviour) {
        m->started = 0;
        return 0;
    }
    double step_beats = 1.0 / map->steps_per_beat;
    double ahead = (double)m->lookahead_frames * map->beats_per_frame;
    int64_t first_due = (int64_t)floor((now_beat + ahead) / step_beats);
    if (!m->started || m->next_step > first_due + 2) { /* a start, or the clock jumped back */
        m->next_step = first_due + 1;
        m->started = 1;
    }
    int played = 0;
    for (;;) {
        double step_beat = (double)m->next_step * step_beats;
        if (now_beat + ahead < step_beat) break;
        if (now_beat >= step_beat) { /* too late for this step: the band rests */
            atomic_fetch_add_explicit(&m->stats.late_steps, 1, memory_order_relaxed);
            m->next_step++;
            continue;
        }
        int64_t t0 = bm_now_ns();
        if (m->listener) listener_read(m->listener, &m->heard);
        bm_step_ctx ctx = step_ctx(m, map, m->next_step, step_beat, step_beats);
        int n = m->behaviour->ops->step(m->behaviour, &ctx, m->pending, m->npending, m->out,
                                        BM_MUSICIAN_MAX_OUT);
        m->npending = 0;
        for (int i = 0; i < n; i++) {
            bm_event *o = &m->out[i];
            if (o->part >= BM_NUM_PARTS) continue;
            /* parts switched off are silent; the performer's own part is the behaviour's to answer
             * on in their rests (call and response) */
            int enabled = (m->parts_enabled >> o->part) & 1;
            if (!enabled && o->type == BM_EV_NOTE_ON) continue;
            push_out(m, o);
        }
        int64_t dt = bm_now_ns() - t0;
        atomic_store_explicit(&m->stats.last_step_ns, dt, memory_order_relaxed);
        if (dt > atomic_load_explicit(&m->stats.max_step_ns, memory_order_relaxed))
            atomic_store_explicit(&m->stats.max_step_ns, dt, memory_order_relaxed);
        atomic_fetch_add_explicit(&m->stats.steps, 1, memory_order_relaxed);
        /* once a beat, what the band expects to play over the next one, for the status line and
         * visuals (OSC /bm/event/plan): sampled ahead on a copy, never played */
        int spb = map->steps_per_beat > 0 ? map->steps_per_beat : 4;
        if (m->plan && m->behaviour->ops->preview && (m->next_step + 1) % spb == 0) {
            int np = m->behaviour->ops->preview(m->behaviour, &ctx, m->preview, BM_MUSICIAN_MAX_OUT);
            for (int i = 0; i < np; i++) {
                const bm_event *p = &m->preview[i];
                if (p->type == BM_EV_NOTE_ON && p->part < BM_NUM_PARTS && (m->parts_enabled >> p->part & 1))
                    ring_push(m->plan, p);
            }
        }
        m->next_step++;
        played++;
    }
    return played;
}
