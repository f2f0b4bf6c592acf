/* bench_jack.c: the live benchmarks' player, reference client, callback table and jackd log. */
#include "engine/bench_jack.h"
#include "engine/jackd_spawn.h"
#include "engine/smf.h"
#include "engine/util.h"

#include <jack/midiport.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int player_process(jack_nframes_t n, void *arg)
{
    bench_player *p = arg;
    int64_t now = jack_last_frame_time(p->client);
    void *buf = jack_port_get_buffer(p->out, n);
    jack_midi_clear_buffer(buf);
    if (p->start == 0) p->start = now;
    for (;;) {
        if (p->next == p->n) { /* loop the performance */
            p->next = 0;
            p->start += p->length;
        }
        int64_t f = p->start + p->msgs[p->next].frame;
        if (f >= now + n) break;
        jack_midi_event_write(buf, f < now ? 0 : (jack_nframes_t)(f - now), p->msgs[p->next].b, 3);
        p->next++;
    }
    return 0;
}

int bench_player_open(bench_player *p, const char *server, const char *name, const char *path, double sr,
                      char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    smf *s;
    if (smf_read_file(path, &s, err, errlen) != 0) return -1;
    smf_tempo_map map;
    smf_tempo_map_build(s, &map);
    p->msgs = calloc(s->tracks[0].n + 1, sizeof *p->msgs);
    for (size_t i = 0; p->msgs && i < s->tracks[0].n; i++) {
        smf_event *e = &s->tracks[0].events[i];
        if (e->kind != SMF_MIDI || e->nbytes != 3) continue;
        p->msgs[p->n].frame = (int64_t)(smf_tempo_map_seconds(&map, e->tick) * sr);
        memcpy(p->msgs[p->n].b, e->bytes, 3);
        p->n++;
    }
    smf_tempo_map_free(&map);
    smf_free(s);
    if (p->n == 0) {
        bm_errf(err, errlen, "%s has no notes to play", path);
        bench_player_close(p);
        return -1;
    }
    p->length = p->msgs[p->n - 1].frame + (int64_t)sr;
    jack_status_t st;
    p->client = jack_client_open(name, JackNoStartServer | JackServerName, &st, server);
    if (!p->client) {
        bm_errf(err, errlen, "the player client could not open on the JACK server %s", server);
        bench_player_close(p);
        return -1;
    }
    p->out = jack_port_register(p->client, "out", JACK_DEFAULT_MIDI_TYPE, JackPortIsOutput, 0);
    jack_set_process_callback(p->client, player_process, p);
    return 0;
}

int bench_player_start(bench_player *p, const char *to)
{
    if (jack_activate(p->client) != 0) return -1;
    return jack_connect(p->client, jack_port_name(p->out), to) == 0 ? 0 : -1;
}

void bench_player_close(bench_player *p)
{
    if (p->client) jack_client_close(p->client);
    p->client = NULL;
    free(p->msgs);
    p->msgs = NULL;
}

/* The reference: a JACK client that only writes silence, on its own private server for the same
 * time, so that xruns the machine causes by itself are counted apart from bandmate's. */
struct null_client {
    jack_port_t *out;
};

static int null_process(jack_nframes_t n, void *arg)
{
    struct null_client *c = arg;
    memset(jack_port_get_buffer(c->out, n), 0, n * sizeof(float));
    return 0;
}

static atomic_int xruns_seen;

static int count_xrun(void *arg)
{
    (void)arg;
    atomic_fetch_add(&xruns_seen, 1);
    return 0;
}

int bench_reference_xruns(int period, double seconds, char *err, size_t errlen)
{
    bm_jackd jd;
    if (jackd_spawn(&jd, 48000, period, NULL, err, errlen) != 0) return -1;
    jack_status_t st;
    jack_client_t *cl = jack_client_open("silence", JackNoStartServer | JackServerName, &st, jd.name);
    struct null_client nc;
    if (!cl) {
        jackd_stop(&jd);
        bm_errf(err, errlen, "the reference client could not open");
        return -1;
    }
    nc.out = jack_port_register(cl, "out", JACK_DEFAULT_AUDIO_TYPE, JackPortIsOutput, 0);
    jack_set_process_callback(cl, null_process, &nc);
    jack_set_xrun_callback(cl, count_xrun, NULL);
    atomic_store(&xruns_seen, 0);
    jack_activate(cl);
    usleep((useconds_t)(seconds * 1e6));
    int n = atomic_load(&xruns_seen);
    jack_client_close(cl);
    jackd_stop(&jd);
    return n;
}

void bench_print_callback(const bm_engine_stats *s, double period_us)
{
    uint64_t cycles = atomic_load(&s->cycles);
    double mean = cycles ? (double)atomic_load(&s->total_cycle_ns) / 1000.0 / (double)cycles : 0;
    double p50 = engine_cycle_percentile_us(s, 50), p99 = engine_cycle_percentile_us(s, 99);
    double p999 = engine_cycle_percentile_us(s, 99.9), mx = (double)atomic_load(&s->max_cycle_ns) / 1000.0;
    printf("%-10s %10s %10s\n", "", "us", "of period");
    printf("%-10s %10.1f %9.2f%%\n", "mean", mean, 100 * mean / period_us);
    printf("%-10s %10.0f %9.2f%%\n", "median", p50, 100 * p50 / period_us);
    printf("%-10s %10.0f %9.2f%%\n", "p99", p99, 100 * p99 / period_us);
    printf("%-10s %10.0f %9.2f%%\n", "p99.9", p999, 100 * p999 / period_us);
    printf("%-10s %10.0f %9.2f%%\n", "max", mx, 100 * mx / period_us);
    double w50 = engine_wake_percentile_us(s, 50), w999 = engine_wake_percentile_us(s, 99.9);
    double wmx = (double)atomic_load(&s->max_wake_us);
    printf("the callback's start after its JACK cycle began: median %.0f us, p99.9 %.0f us, max %.0f us (%.0f%% of the period)\n",
           w50, w999, wmx, 100 * wmx / period_us);
    printf("cycles in which the callback ended more than a period after the cycle began: %llu; in %llu of them it had\n"
           "waited longer to start than it worked\n",
           (unsigned long long)atomic_load(&s->overruns), (unsigned long long)atomic_load(&s->overruns_woke_late));
}

void bench_jackd_log_xruns(const char *log, const char *client, int *ours, int *others)
{
    *ours = *others = 0;
    char mine[160];
    snprintf(mine, sizeof mine, "client = %s was not finished", client);
    FILE *lf = fopen(log, "r");
    if (!lf) return;
    char line[512];
    while (fgets(line, sizeof line, lf)) {
        if (strstr(line, mine)) (*ours)++;
        else if (strstr(line, "XRun") || strstr(line, "xrun")) (*others)++;
    }
    fclose(lf);
}
