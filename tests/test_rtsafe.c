/* test_rtsafe.c: the process callback never allocates, frees, locks, sleeps or does I/O.
 * malloc and friends, mutexes, and read/write are interposed in this test binary and armed by a
 * thread-local flag that the engine's test hooks raise for the duration of engine_process. The
 * sanitizer build replaces malloc itself, so this test runs in the plain build only. */
#include "test.h"

#ifndef BM_SANITIZED

#include "jack_peer.h"
#include "jackd.h"
#include "engine/engine.h"
#include "engine/jack_driver.h"
#include "engine/offline.h"
#include "engine/recorder.h"
#include "engine/smf.h"
#include "engine/voice/voice_bank.h"
#include "test_listen_util.h"
#include "voice_kit.h"

#include <sndfile.h>
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static __thread int in_rt;
static atomic_int violations;
static char first_violation[64];

static void violation(const char *what)
{
    if (atomic_fetch_add(&violations, 1) == 0) {
        size_t n = strlen(what);
        memcpy(first_violation, what, n < 63 ? n + 1 : 63);
    }
}

#define WATCH(name) do { if (in_rt) violation(name); } while (0)

void *malloc(size_t n) { WATCH("malloc"); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { WATCH("calloc"); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { WATCH("realloc"); return __libc_realloc(p, n); }
void free(void *p) { if (p) WATCH("free"); __libc_free(p); }
void *aligned_alloc(size_t a, size_t n) { WATCH("aligned_alloc"); return __libc_memalign(a, n); }
void *memalign(size_t a, size_t n) { WATCH("memalign"); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n)
{
    WATCH("posix_memalign");
    *out = __libc_memalign(a, n);
    return *out ? 0 : 12;
}

#define FORWARD(ret, name, params, args)                                   \
    ret name params                                                        \
    {                                                                      \
        WATCH(#name);                                                      \
        static ret(*real) params;                                          \
        if (!real) real = (ret(*) params)dlsym(RTLD_NEXT, #name);          \
        return real args;                                                  \
    }

FORWARD(int, pthread_mutex_lock, (pthread_mutex_t *m), (m))
FORWARD(int, pthread_mutex_trylock, (pthread_mutex_t *m), (m))
FORWARD(int, pthread_rwlock_rdlock, (pthread_rwlock_t *l), (l))
FORWARD(int, pthread_rwlock_wrlock, (pthread_rwlock_t *l), (l))
FORWARD(int, pthread_cond_wait, (pthread_cond_t *c, pthread_mutex_t *m), (c, m))
FORWARD(int, sem_wait, (sem_t *s), (s))
FORWARD(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n))
FORWARD(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n))
FORWARD(int, usleep, (useconds_t us), (us))
FORWARD(int, nanosleep, (const struct timespec *a, struct timespec *b), (a, b))

static void rt_enter(void) { in_rt = 1; }
static void rt_leave(void) { in_rt = 0; }

TEST(rtsafe_interposition_catches_a_malloc_in_the_callback)
{
    /* called through volatile pointers so that the compiler cannot see through them */
    void *(*volatile alloc)(size_t) = malloc;
    int (*volatile lock)(pthread_mutex_t *) = pthread_mutex_lock;
    ssize_t (*volatile wr)(int, const void *, size_t) = write;
    atomic_store(&violations, 0);
    rt_enter();
    void *p = alloc(16);
    rt_leave();
    free(p);
    CHECK_EQ_INT(atomic_load(&violations), 1);
    CHECK(!strcmp(first_violation, "malloc"));
    atomic_store(&violations, 0);
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    rt_enter();
    lock(&m);
    rt_leave();
    pthread_mutex_unlock(&m);
    CHECK_EQ_INT(atomic_load(&violations), 1);
    atomic_store(&violations, 0);
    rt_enter();
    wr(-1, "", 0);
    rt_leave();
    CHECK_EQ_INT(atomic_load(&violations), 1);
}

/* A busy performance: many notes, chords, bends and controllers, over about 8 s. */
static void write_busy(const char *path, int notes)
{
    smf *s = smf_new(480);
    smf_add_track(s, "human");
    for (int i = 0; i < notes; i++) {
        uint64_t t = (uint64_t)i * 9; /* about 100 notes a second */
        uint8_t on[3] = {0x90, (uint8_t)(40 + (i * 7) % 48), 100}, off[3] = {0x80, on[1], 0};
        smf_add_midi(s, 0, t, on, 3);
        smf_add_midi(s, 0, t + 300, off, 3);
        if (i % 10 == 0) {
            uint8_t bend[3] = {0xe0, 0, (uint8_t)(32 + i % 64)}, cc[3] = {0xb0, 1, (uint8_t)(i % 128)};
            smf_add_midi(s, 0, t + 5, bend, 3);
            smf_add_midi(s, 0, t + 7, cc, 3);
        }
    }
    char err[256];
    if (smf_write_file(s, path, err, sizeof err) != 0) test_fail(__FILE__, __LINE__, "%s", err);
    smf_free(s);
}

TEST_TIMEOUT(rtsafe_live_session_never_allocates_locks_or_does_io, 90)
{
    test_jackd j;
    test_jackd_start(&j, 48000, 64);
    static peer p;
    peer_open(&p, j.name, 20);
    bm_jack_opts jo = {0};
    jo.server_name = j.name;
    jo.client_name = "bmrt";
    jo.audio_inputs = 2;
    char err[512];
    bm_jack *jack = jack_driver_open(&jo, err, sizeof err);
    CHECKF(jack, "%s", err);
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    cfg.monitor_human = 1;
    cfg.midi_clock_out = 1;
    cfg.record = 1;
    /* neural voices on the performer's part and the comping (a morph), from a small test decoder */
    static voice_kit kit;
    voice_kit_make(&kit);
    voice_kit_install(&kit, test_path("voices"));
    snprintf(cfg.voice[BM_PART_HUMAN], sizeof cfg.voice[0], "pluck");
    snprintf(cfg.voice[BM_PART_COMPING], sizeof cfg.voice[0], "pad,pluck@0.3");
    bm_engine *e = engine_create(&cfg, err, sizeof err);
    CHECKF(e, "%s", err);
    ring *rev, *raud;
    engine_record_rings(e, &rev, &raud);
    bm_recorder *rec = recorder_create(test_path("s.mid"), test_path("s.wav"), rev, raud, 48000, 120, 4, 4,
                                       err, sizeof err);
    CHECKF(rec, "%s", err);
    CHECK(recorder_start_thread(rec) == 0);
    engine_prefault(e);
    bm_rt_enter_hook = rt_enter;
    bm_rt_leave_hook = rt_leave;
    atomic_store(&violations, 0);
    CHECK(engine_start_musician_thread(e) == 0);
    CHECKF(jack_driver_start(jack, e, err, sizeof err) == 0, "%s", err);
    peer_connect(&p, "bmrt");
    write_busy(test_path("busy.mid"), 1000);
    int64_t start = peer_frame(&p) + 4800;
    int n = peer_load_smf(&p, test_path("busy.mid"), start, 48000);
    int64_t last = p.to_send[n - 1].frame;
    /* meanwhile the control side changes tempo, swaps instruments, mutes parts and panics */
    int step = 0;
    while (peer_frame(&p) < last + 24000) {
        usleep(100000);
        bm_command c = {0};
        switch (step++ % 5) {
        case 0: c.type = BM_CMD_TEMPO; c.value = 90 + step % 60; break;
        case 1: /* the lead changes between classic presets and neural voices */
            c.type = BM_CMD_INSTRUMENT;
            c.part = BM_PART_LEAD;
            c.ptr = step % 2 ? synth_classic_create(step % 6, 16, 48000)
                             : voice_instrument_create(step % 4 ? "pad" : "pluck,pad@0.5", 16, 48000, err, sizeof err);
            CHECKF(c.ptr, "%s", err);
            break;
        case 2: c.type = BM_CMD_PART_AUDIO; c.part = BM_PART_LEAD; c.value = step % 2; break;
        case 3: c.type = BM_CMD_TAP; break;
        case 4: c.type = BM_CMD_PANIC; break;
        }
        engine_command(e, &c);
        bm_command morph = {BM_CMD_MORPH, BM_PART_COMPING, (double)(step % 10) / 9.0, NULL};
        engine_command(e, &morph);
        engine_collect_garbage(e);
        bm_event junk;
        while (ring_pop(engine_feedback_ring(e), &junk) == 0) {}
        while (ring_pop(engine_plan_ring(e), &junk) == 0) {}
    }
    jack_driver_close(jack);
    bm_rt_enter_hook = NULL;
    bm_rt_leave_hook = NULL;
    const bm_engine_stats *st = engine_stats(e);
    uint64_t cycles = atomic_load(&st->cycles), human = atomic_load(&st->human_notes), band = atomic_load(&st->band_notes);
    recorder_finish(rec, err, sizeof err);
    recorder_destroy(rec);
    engine_destroy(e);
    voice_model_free(&kit.vm);
    peer_close(&p);
    test_jackd_stop(&j);
    CHECKF(atomic_load(&violations) == 0, "%d calls that the process callback must not make, the first: %s",
           atomic_load(&violations), first_violation);
    CHECKF(cycles > 5000, "only %llu periods ran", (unsigned long long)cycles);
    /* every note, but for those an xrun of the machine's own may have swallowed */
    CHECKF(human + 2 * (uint64_t)p.xruns >= 1000, "only %llu performer notes reached the engine (%d xruns)",
           (unsigned long long)human, p.xruns);
    CHECKF(band >= 500, "only %llu band notes were played", (unsigned long long)band);
}

TEST(rtsafe_offline_render_callback_never_allocates)
{
    write_busy(test_path("busy.mid"), 800);
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    cfg.midi_clock_out = 1;
    static voice_kit kit;
    voice_kit_make(&kit);
    voice_kit_install(&kit, test_path("voices"));
    snprintf(cfg.voice[BM_PART_HUMAN], sizeof cfg.voice[0], "pad");
    snprintf(cfg.voice[BM_PART_LEAD], sizeof cfg.voice[0], "pad,pluck@0.7");
    snprintf(cfg.voice[BM_PART_BASS], sizeof cfg.voice[0], "pluck");
    bm_render_opts o;
    render_opts_defaults(&o);
    o.in_mid = test_path("busy.mid");
    o.out_mid = test_path("o.mid");
    o.out_wav = test_path("o.wav");
    bm_rt_enter_hook = rt_enter;
    bm_rt_leave_hook = rt_leave;
    atomic_store(&violations, 0);
    bm_render_result res;
    char err[256];
    CHECKF(render_file(&cfg, &o, &res, err, sizeof err) == 0, "%s", err);
    bm_rt_enter_hook = NULL;
    bm_rt_leave_hook = NULL;
    voice_model_free(&kit.vm);
    CHECKF(atomic_load(&violations) == 0, "%d forbidden calls, the first: %s", atomic_load(&violations),
           first_violation);
    CHECK_EQ_INT(res.human_notes, 800);
}

/* The performer on an audio input: a sung-like line with vibrato into in_1, analysed as notes,
 * its onsets driving the clock (tempo source performer), while the control side ends phrases,
 * changes the follow strength and the tempo source, and MIDI comes in too. */
TEST_TIMEOUT(rtsafe_live_listening_to_audio_never_allocates_locks_or_does_io, 90)
{
    test_jackd j;
    test_jackd_start(&j, 48000, 64);
    static peer p;
    peer_open(&p, j.name, 20);
    bm_jack_opts jo = {0};
    jo.server_name = j.name;
    jo.client_name = "bmrta";
    jo.audio_inputs = 1;
    char err[512];
    bm_jack *jack = jack_driver_open(&jo, err, sizeof err);
    CHECKF(jack, "%s", err);
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    cfg.record = 1;
    cfg.listen.audio = BM_LISTEN_MONO;
    cfg.tempo_source = BM_TEMPO_PERFORMER;
    bm_engine *e = engine_create(&cfg, err, sizeof err);
    CHECKF(e, "%s", err);
    ring *rev, *raud;
    engine_record_rings(e, &rev, &raud);
    bm_recorder *rec = recorder_create(test_path("a.mid"), test_path("a.wav"), rev, raud, 48000, 120, 4, 4, err,
                                       sizeof err);
    CHECKF(rec, "%s", err);
    CHECK(recorder_start_thread(rec) == 0);
    /* eight seconds of a line at 110 BPM: eighths and quarters, vibrato, a little noise */
    static lt_note line[64];
    int n = 0;
    for (double t = 0.2; t < 7.5 && n < 64; n++) {
        double len = n % 3 == 2 ? 60.0 / 110 : 30.0 / 110;
        line[n] = (lt_note){(int64_t)(t * 48000), (int64_t)((t + 0.85 * len) * 48000), 57 + (n * 5) % 14, 70 + n % 40};
        t += len;
    }
    int64_t frames = 8 * 48000;
    float *x = lt_synth_line(line, n, 48000, frames, 30, 0.001, 9);
    engine_prefault(e);
    bm_rt_enter_hook = rt_enter;
    bm_rt_leave_hook = rt_leave;
    atomic_store(&violations, 0);
    CHECK(engine_start_musician_thread(e) == 0);
    CHECKF(jack_driver_start(jack, e, err, sizeof err) == 0, "%s", err);
    peer_connect(&p, "bmrta");
    write_busy(test_path("busy.mid"), 300);
    int64_t start = peer_frame(&p) + 4800;
    peer_load_smf(&p, test_path("busy.mid"), start, 48000);
    peer_play_audio(&p, x, frames, start);
    int step = 0;
    while (peer_frame(&p) < start + frames + 9600) {
        usleep(100000);
        bm_command c = {0};
        switch (step++ % 4) {
        case 0: engine_end_phrase(e); break;
        case 1: engine_set_follow(e, (step % 3) / 2.0); break;
        case 2: c.type = BM_CMD_TEMPO_SOURCE; c.value = step % 8 == 2 ? BM_TEMPO_INTERNAL : BM_TEMPO_PERFORMER; engine_command(e, &c); break;
        case 3: { bm_listen_state st; engine_listen_state(e, &st); break; }
        }
        engine_collect_garbage(e);
        bm_event junk;
        while (ring_pop(engine_feedback_ring(e), &junk) == 0) {}
        while (ring_pop(engine_plan_ring(e), &junk) == 0) {}
    }
    jack_driver_close(jack);
    bm_rt_enter_hook = NULL;
    bm_rt_leave_hook = NULL;
    bm_listen_stats ls;
    listener_stats(engine_listener(e), &ls);
    recorder_finish(rec, err, sizeof err);
    recorder_destroy(rec);
    engine_destroy(e);
    peer_close(&p);
    test_jackd_stop(&j);
    free(x);
    CHECKF(atomic_load(&violations) == 0, "%d calls that the process callback must not make, the first: %s",
           atomic_load(&violations), first_violation);
    CHECKF(ls.audio_notes >= (uint64_t)n * 8 / 10, "only %llu of %d notes were heard in the audio",
           (unsigned long long)ls.audio_notes, n);
}

static void write_mono_wav(const char *path, const float *x, int64_t frames)
{
    SF_INFO info = {0};
    info.samplerate = 48000;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    CHECK(f);
    CHECK(sf_writef_float(f, x, frames) == frames);
    sf_close(f);
}

TEST(rtsafe_offline_render_of_audio_never_allocates)
{
    static lt_note line[40];
    for (int i = 0; i < 40; i++) {
        int64_t on = (int64_t)((0.1 + 0.2 * i) * 48000);
        line[i] = (lt_note){on, on + 7000, 50 + (i * 7) % 30, 90};
    }
    int64_t frames = 9 * 48000;
    float *x = lt_synth_line(line, 40, 48000, frames, 20, 0.001, 2);
    /* chords for the polyphonic analysis: the same line with a fifth above */
    float *y = lt_synth_line(line, 40, 48000, frames, 0, 0, 3);
    for (int i = 0; i < 40; i++) line[i].note += 7;
    float *z = lt_synth_line(line, 40, 48000, frames, 0, 0, 4);
    for (int64_t i = 0; i < frames; i++) y[i] = 0.5f * (y[i] + z[i]);
    write_mono_wav(test_path("mono.wav"), x, frames);
    write_mono_wav(test_path("poly.wav"), y, frames);
    free(x);
    free(y);
    free(z);
    for (int mode = BM_LISTEN_MONO; mode <= BM_LISTEN_POLY; mode++) {
        bm_engine_config cfg;
        engine_config_defaults(&cfg);
        cfg.listen.audio = mode;
        cfg.tempo_source = BM_TEMPO_PERFORMER;
        bm_render_opts o;
        render_opts_defaults(&o);
        o.in_wav = test_path(mode == BM_LISTEN_MONO ? "mono.wav" : "poly.wav");
        o.wav_sets_rate = 1;
        o.in_mid = NULL;
        write_busy(test_path("busy.mid"), 200);
        o.in_mid = test_path("busy.mid");
        o.out_mid = test_path("o.mid");
        o.out_wav = test_path("o.wav");
        o.block = 64;
        bm_rt_enter_hook = rt_enter;
        bm_rt_leave_hook = rt_leave;
        atomic_store(&violations, 0);
        bm_render_result res;
        char err[256];
        CHECKF(render_file(&cfg, &o, &res, err, sizeof err) == 0, "%s", err);
        bm_rt_enter_hook = NULL;
        bm_rt_leave_hook = NULL;
        CHECKF(atomic_load(&violations) == 0, "%s: %d forbidden calls, the first: %s",
               mode == BM_LISTEN_MONO ? "mono" : "poly", atomic_load(&violations), first_violation);
        CHECKF(res.audio_notes >= 30, "%s: only %llu notes or onsets heard", mode == BM_LISTEN_MONO ? "mono" : "poly",
               (unsigned long long)res.audio_notes);
    }
}

#endif
