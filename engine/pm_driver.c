/* pm_driver.c: PortMidi input/output threads mapped onto the frame timeline. */
#include "engine/pm_driver.h"
#include "engine/util.h"

#include <ctype.h>
#include <fcntl.h>
#include <portmidi.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct bm_pm {
    bm_engine *engine;
    PortMidiStream *in, *out;
    pthread_t thread;
    atomic_int stop;
    int running;
    int64_t delay_frames;
    ring *out_ring;
};

/* PortMidi's time base: milliseconds of CLOCK_MONOTONIC (wraps after 24 days; fine for a show). */
static PmTimestamp pm_now_ms(void *info)
{
    (void)info;
    return (PmTimestamp)(bm_now_ns() / 1000000);
}

static int initialised;

/* Pm_Initialize lets ALSA print to stderr when there is no sequencer; we say it our way. */
static int pm_start(void)
{
    if (initialised) return 0;
    fflush(stderr);
    int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 2);
    PmError e = Pm_Initialize();
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    if (devnull >= 0) close(devnull);
    if (e != pmNoError) return -1;
    initialised = 1;
    return 0;
}

int pm_list_devices(bm_pm_device *out, int max)
{
    if (pm_start() != 0) return -1;
    int n = Pm_CountDevices(), k = 0;
    for (int i = 0; i < n && k < max; i++) {
        const PmDeviceInfo *d = Pm_GetDeviceInfo(i);
        if (!d) continue;
        out[k].id = i;
        snprintf(out[k].interf, sizeof out[k].interf, "%s", d->interf ? d->interf : "");
        snprintf(out[k].name, sizeof out[k].name, "%s", d->name ? d->name : "");
        out[k].input = d->input;
        out[k].output = d->output;
        k++;
    }
    return k;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return n == 0;
}

static int find_device(const char *name, int want_input, char *err, size_t errlen)
{
    bm_pm_device devs[128];
    int n = pm_list_devices(devs, 128);
    if (n < 0) {
        snprintf(err, errlen, "PortMidi could not start, so the MIDI device '%s' cannot be opened", name);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if ((want_input ? devs[i].input : devs[i].output) && contains_nocase(devs[i].name, name))
            return devs[i].id;
    if (n == 0)
        snprintf(err, errlen, "no MIDI %s device matches '%s': no MIDI devices were found at all (is ALSA "
                 "available and the device plugged in?)", want_input ? "input" : "output", name);
    else
        snprintf(err, errlen, "no MIDI %s device matches '%s' ('bandmate devices' lists the %d there are)",
                 want_input ? "input" : "output", name, n);
    return -1;
}

int64_t pm_time_to_frame(int64_t t_ns, int64_t anchor_frame, int64_t anchor_ns, double sample_rate,
                         int64_t delay_frames)
{
    double df = (double)(t_ns - anchor_ns) * 1e-9 * sample_rate;
    return anchor_frame + (int64_t)(df >= 0 ? df + 0.5 : df - 0.5) + delay_frames;
}

int64_t pm_frame_to_time(int64_t frame, int64_t anchor_frame, int64_t anchor_ns, double sample_rate)
{
    return anchor_ns + (int64_t)((double)(frame - anchor_frame) / sample_rate * 1e9);
}

int pm_deliver(bm_engine *e, int64_t t_ns, const uint8_t *bytes, int n, int64_t delay_frames)
{
    int64_t af, ans;
    engine_time_anchor(e, &af, &ans);
    double sr = engine_sample_rate(e);
    int64_t frame = pm_time_to_frame(t_ns, af, ans, sr, delay_frames);
    return engine_external_midi(e, frame, bytes, n);
}

static void *pm_main(void *arg)
{
    bm_pm *p = arg;
    PmEvent buf[64];
    while (!atomic_load(&p->stop)) {
        if (p->in) {
            int n;
            while ((n = Pm_Read(p->in, buf, 64)) > 0)
                for (int i = 0; i < n; i++) {
                    uint8_t b[3] = {(uint8_t)Pm_MessageStatus(buf[i].message),
                                    (uint8_t)Pm_MessageData1(buf[i].message),
                                    (uint8_t)Pm_MessageData2(buf[i].message)};
                    int len = (b[0] & 0xf0) == 0xc0 || (b[0] & 0xf0) == 0xd0 ? 2 : b[0] >= 0xf8 ? 1 : 3;
                    /* PortMidi stamps in ms; rebuild ns on our monotonic base, keeping the sub-ms
                     * position of now for events stamped this very millisecond */
                    int64_t now = bm_now_ns();
                    int64_t t = (int64_t)buf[i].timestamp * 1000000;
                    if (t > now) t = now;
                    pm_deliver(p->engine, t, b, len, p->delay_frames);
                }
        }
        if (p->out) {
            bm_event ev;
            int64_t af, ans;
            engine_time_anchor(p->engine, &af, &ans);
            double sr = engine_sample_rate(p->engine);
            while (ring_pop(p->out_ring, &ev) == 0) {
                uint8_t b[3] = {0, 0, 0};
                if (!bm_event_to_midi(&ev, b)) continue;
                PmEvent pe;
                pe.message = Pm_Message(b[0], b[1], b[2]);
                /* PortMidi adds the output latency given at open: events keep their spacing */
                pe.timestamp = (PmTimestamp)(pm_frame_to_time(ev.frame, af, ans, sr) / 1000000);
                Pm_Write(p->out, &pe, 1);
            }
        }
        usleep(1000);
    }
    return NULL;
}

bm_pm *pm_driver_open(bm_engine *e, const char *input, const char *output, uint32_t period_frames,
                      char *err, size_t errlen)
{
    if (!input && !output) {
        snprintf(err, errlen, "no MIDI device was named");
        return NULL;
    }
    int in_id = -1, out_id = -1;
    if (input && (in_id = find_device(input, 1, err, errlen)) < 0) return NULL;
    if (output && (out_id = find_device(output, 0, err, errlen)) < 0) return NULL;
    bm_pm *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->engine = e;
    double sr = engine_sample_rate(e);
    /* one period for the block in flight, and 2 ms for the polling interval */
    p->delay_frames = period_frames + (int64_t)(0.002 * sr);
    atomic_init(&p->stop, 0);
    if (in_id >= 0 && Pm_OpenInput(&p->in, in_id, NULL, 512, pm_now_ms, NULL) != pmNoError) {
        snprintf(err, errlen, "the MIDI input '%s' could not be opened (is another program using it?)", input);
        free(p);
        return NULL;
    }
    if (out_id >= 0 && Pm_OpenOutput(&p->out, out_id, NULL, 512, pm_now_ms, NULL, 5) != pmNoError) {
        snprintf(err, errlen, "the MIDI output '%s' could not be opened (is another program using it?)", output);
        if (p->in) Pm_Close(p->in);
        free(p);
        return NULL;
    }
    if (p->out) p->out_ring = engine_external_midi_out(e);
    if (pthread_create(&p->thread, NULL, pm_main, p) != 0) {
        snprintf(err, errlen, "could not start the MIDI thread");
        pm_driver_close(p);
        return NULL;
    }
    p->running = 1;
    return p;
}

void pm_driver_close(bm_pm *p)
{
    if (!p) return;
    if (p->running) {
        atomic_store(&p->stop, 1);
        pthread_join(p->thread, NULL);
    }
    if (p->in) Pm_Close(p->in);
    if (p->out) Pm_Close(p->out);
    free(p);
}
