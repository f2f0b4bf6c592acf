/* pm_driver.h: hardware MIDI through PortMidi: list devices, open them by a part of their name,
 * and bring their events onto the engine's frame timeline (and the band's MIDI out to them).
 * Its threads are not real-time critical: input is stamped by PortMidi and mapped to frames with
 * a fixed delay of one period plus a margin, so the performer's timing is kept, not quantised. */
#pragma once

#include "engine/engine.h"

#include <stdint.h>

typedef struct bm_pm bm_pm;

typedef struct bm_pm_device {
    int id;
    char interf[64];
    char name[128];
    int input, output;
} bm_pm_device;

/* Lists the devices (at most max); returns how many, or -1 when PortMidi cannot start. */
int pm_list_devices(bm_pm_device *out, int max);

/* Opens an input and/or an output (NULL: none) by a case-insensitive part of the name and starts
 * the threads; NULL with one sentence in err when a named device is absent. */
bm_pm *pm_driver_open(bm_engine *e, const char *input, const char *output, uint32_t period_frames,
                      char *err, size_t errlen);

/* Stops and closes. */
void pm_driver_close(bm_pm *p);

/* Maps a time (CLOCK_MONOTONIC ns) to the engine's timeline, given the anchor published by the
 * process thread, plus a fixed delay in frames. */
int64_t pm_time_to_frame(int64_t t_ns, int64_t anchor_frame, int64_t anchor_ns, double sample_rate,
                         int64_t delay_frames);

/* Maps a frame to a CLOCK_MONOTONIC time in ns (for scheduling output). */
int64_t pm_frame_to_time(int64_t frame, int64_t anchor_frame, int64_t anchor_ns, double sample_rate);

/* Hands one incoming short MIDI message, stamped at t_ns, to the engine as the performer's;
 * 0, or -1 if it is not a message bandmate routes or the ring is full. (The input thread's path.) */
int pm_deliver(bm_engine *e, int64_t t_ns, const uint8_t *bytes, int n, int64_t delay_frames);
