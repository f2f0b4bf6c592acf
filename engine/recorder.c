/* recorder.c: events and audio from the rings to SMF and WAV, incrementally. */
#include "engine/recorder.h"
#include "engine/util.h"
#include "engine/event.h"
#include "engine/smf.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DIVISION 960

struct tempo_seg {
    int64_t frame;
    double tick;
    double ticks_per_frame;
};

struct bm_recorder {
    char *mid_path, *wav_path;
    ring *events, *audio;
    double sample_rate;
    smf *midi;
    int dirty;
    SNDFILE *wav;
    float buf[8192];
    struct tempo_seg *tempo;
    size_t ntempo, tempo_cap;
    bm_recorder_info info;
    int reported;
    int origin_set;       /* the first tempo event marks where the session starts */
    pthread_t thread;
    int thread_running;
    atomic_int stop;
    int finished;
};

static void report_once(bm_recorder *r, const char *what, const char *path)
{
    r->info.write_errors++;
    if (r->reported) return;
    r->reported = 1;
    fprintf(stderr, "bandmate: cannot %s %s (%s); the recording is kept in memory and retried.\n",
            what, path, strerror(errno));
}

static int add_tempo_segment(bm_recorder *r, int64_t frame, double bpm)
{
    if (r->ntempo == r->tempo_cap) {
        size_t cap = r->tempo_cap ? r->tempo_cap * 2 : 16;
        struct tempo_seg *t = realloc(r->tempo, cap * sizeof *t);
        if (!t) return -1;
        r->tempo = t;
        r->tempo_cap = cap;
    }
    double tick = 0;
    if (r->ntempo) {
        struct tempo_seg *last = &r->tempo[r->ntempo - 1];
        if (frame < last->frame) frame = last->frame;
        tick = last->tick + (double)(frame - last->frame) * last->ticks_per_frame;
        if (frame == last->frame) r->ntempo--; /* replaces a change at the same frame */
    }
    r->tempo[r->ntempo++] = (struct tempo_seg){frame, tick, bpm / 60.0 / r->sample_rate * DIVISION};
    return 0;
}

static uint64_t frame_to_tick(const bm_recorder *r, int64_t frame)
{
    size_t lo = 0, hi = r->ntempo;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (r->tempo[mid].frame <= frame) lo = mid;
        else hi = mid;
    }
    const struct tempo_seg *s = &r->tempo[lo];
    double t = s->tick + (double)(frame - s->frame) * s->ticks_per_frame;
    return t <= 0 ? 0 : (uint64_t)llround(t);
}

bm_recorder *recorder_create(const char *mid_path, const char *wav_path, ring *events, ring *audio,
                             double sample_rate, double bpm, int beats_per_bar, int beat_unit,
                             char *err, size_t errlen)
{
    bm_recorder *r = calloc(1, sizeof *r);
    if (!r) {
        bm_errf(err, errlen, "out of memory");
        return NULL;
    }
    r->events = events;
    r->audio = audio;
    r->sample_rate = sample_rate;
    atomic_init(&r->stop, 0);
    if (add_tempo_segment(r, 0, bpm) != 0) goto oom;
    if (mid_path) {
        r->mid_path = strdup(mid_path);
        r->midi = smf_new(DIVISION);
        if (!r->mid_path || !r->midi) goto oom;
        for (int p = 0; p < BM_NUM_PARTS; p++)
            if (smf_add_track(r->midi, bm_part_name(p)) != p) goto oom;
        smf_add_tempo(r->midi, 0, 0, (uint32_t)llround(60e6 / bpm));
        int denom_pow = beat_unit == 2 ? 1 : beat_unit == 8 ? 3 : beat_unit == 16 ? 4 : 2;
        uint8_t ts[4] = {(uint8_t)beats_per_bar, (uint8_t)denom_pow, 24, 8};
        smf_add_meta(r->midi, 0, 0, SMF_META_TIME_SIGNATURE, ts, 4);
        /* write an empty file now: an unwritable path is an error before the music starts */
        char why[512];
        if (smf_write_file(r->midi, mid_path, why, sizeof why) != 0) {
            bm_errf(err, errlen, "%s", why);
            recorder_destroy(r);
            return NULL;
        }
    }
    if (wav_path) {
        r->wav_path = strdup(wav_path);
        if (!r->wav_path) goto oom;
        SF_INFO info = {0};
        info.samplerate = (int)llround(sample_rate);
        info.channels = 2;
        info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_24;
        r->wav = sf_open(wav_path, SFM_WRITE, &info);
        if (!r->wav) {
            bm_errf(err, errlen, "cannot write %s: %s", wav_path, sf_strerror(NULL));
            recorder_destroy(r);
            return NULL;
        }
        /* the header is rewritten after every write: the file is valid up to the last drain */
        sf_command(r->wav, SFC_SET_UPDATE_HEADER_AUTO, NULL, SF_TRUE);
        sf_command(r->wav, SFC_SET_CLIPPING, NULL, SF_TRUE);
    }
    return r;
oom:
    bm_errf(err, errlen, "out of memory");
    recorder_destroy(r);
    return NULL;
}

static void take_event(bm_recorder *r, const bm_event *ev)
{
    if (ev->type == BM_EV_TEMPO) {
        if (!r->origin_set) { /* live, frames count from when JACK started: tick 0 is our start */
            r->origin_set = 1;
            r->tempo[0].frame = ev->frame;
        }
        double before = r->tempo[r->ntempo - 1].ticks_per_frame;
        add_tempo_segment(r, ev->frame, ev->value_f);
        uint64_t tick = frame_to_tick(r, ev->frame);
        int same = fabs(r->tempo[r->ntempo - 1].ticks_per_frame - before) < 1e-12;
        if (r->midi && !(tick == 0 && same)) /* the starting tempo is written already */
            smf_add_tempo(r->midi, 0, tick, (uint32_t)llround(60e6 / ev->value_f));
        r->dirty = 1;
        return;
    }
    if (!r->midi || ev->part >= BM_NUM_PARTS) return;
    r->origin_set = 1;
    uint8_t bytes[3];
    int n = bm_event_to_midi(ev, bytes);
    if (!n || ev->type == BM_EV_CLOCK) return;
    if (smf_add_midi(r->midi, ev->part, frame_to_tick(r, ev->frame), bytes, n) == 0) {
        r->info.events++;
        r->dirty = 1;
    }
}

void recorder_drain(bm_recorder *r)
{
    bm_event ev;
    while (ring_pop(r->events, &ev) == 0) take_event(r, &ev);
    size_t got;
    while ((got = ring_pop_n(r->audio, r->buf, sizeof r->buf / sizeof r->buf[0])) > 0) {
        got &= ~(size_t)1; /* whole stereo frames: the process thread pushes pairs */
        if (r->wav) {
            sf_count_t w = sf_writef_float(r->wav, r->buf, (sf_count_t)(got / 2));
            if (w != (sf_count_t)(got / 2)) report_once(r, "write", r->wav_path);
        }
        r->info.frames += got / 2;
    }
}

int recorder_save_midi(bm_recorder *r)
{
    if (!r->midi || !r->dirty) return 0;
    char why[512];
    if (smf_write_file(r->midi, r->mid_path, why, sizeof why) != 0) {
        report_once(r, "save", r->mid_path);
        return -1;
    }
    r->dirty = 0;
    return 0;
}

static void *recorder_main(void *arg)
{
    bm_recorder *r = arg;
    double last_save = bm_now_s();
    while (!atomic_load(&r->stop)) {
        usleep(50000);
        recorder_drain(r);
        if (bm_now_s() - last_save >= 1.0) {
            recorder_save_midi(r);
            if (r->wav) sf_write_sync(r->wav);
            last_save = bm_now_s();
        }
    }
    return NULL;
}

int recorder_start_thread(bm_recorder *r)
{
    if (r->thread_running) return 0;
    if (pthread_create(&r->thread, NULL, recorder_main, r) != 0) return -1;
    r->thread_running = 1;
    return 0;
}

int recorder_finish(bm_recorder *r, char *err, size_t errlen)
{
    if (r->finished) return 0;
    r->finished = 1;
    if (r->thread_running) {
        atomic_store(&r->stop, 1);
        pthread_join(r->thread, NULL);
        r->thread_running = 0;
    }
    recorder_drain(r);
    int rc = 0;
    if (r->midi) {
        r->dirty = 1;
        char why[512];
        if (smf_write_file(r->midi, r->mid_path, why, sizeof why) != 0) {
            bm_errf(err, errlen, "%s", why);
            rc = -1;
        }
    }
    if (r->wav) {
        if (sf_close(r->wav) != 0 && rc == 0) {
            bm_errf(err, errlen, "cannot finish %s", r->wav_path);
            rc = -1;
        }
        r->wav = NULL;
    }
    if (rc == 0 && r->info.write_errors) {
        bm_errf(err, errlen, "some writes to the recording failed");
        rc = -1;
    }
    return rc;
}

bm_recorder_info recorder_info(bm_recorder *r) { return r->info; }

void recorder_destroy(bm_recorder *r)
{
    if (!r) return;
    if (!r->finished && (r->midi || r->wav)) recorder_finish(r, NULL, 0);
    if (r->wav) sf_close(r->wav);
    smf_free(r->midi);
    free(r->tempo);
    free(r->mid_path);
    free(r->wav_path);
    free(r);
}
