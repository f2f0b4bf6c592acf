/* timebase.h: the control thread's view of time: CLOCK_MONOTONIC nanoseconds, the engine's frame
 * timeline (through the anchor the process thread publishes each period), and OSC time tags (NTP
 * wall-clock time) mapped onto both. Never blocks. */
#pragma once

#include "engine/engine.h"

#include <stdint.h>

/* CLOCK_MONOTONIC now, in ns. */
int64_t tb_mono_ns(void);

/* The engine's frame at a CLOCK_MONOTONIC time. */
int64_t tb_ns_to_frame(bm_engine *e, int64_t mono_ns);

/* The CLOCK_MONOTONIC time of an engine frame. */
int64_t tb_frame_to_ns(bm_engine *e, int64_t frame);

/* An OSC time tag (seconds since 1900 and a 32-bit fraction) as a CLOCK_MONOTONIC time. */
int64_t tb_osc_to_ns(uint32_t sec, uint32_t frac);

/* 1 for the OSC time tag that means "immediately" (0 seconds, fraction 1). */
int tb_osc_immediate(uint32_t sec, uint32_t frac);
