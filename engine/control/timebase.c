/* timebase.c: monotonic, frame and OSC times. */
#include "engine/control/timebase.h"

#include <time.h>

#define NTP_UNIX_OFFSET 2208988800ll /* seconds from 1900 to 1970 */

int64_t tb_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double sample_rate(bm_engine *e)
{
    bm_clock_map m;
    clock_read_published(engine_clock(e), &m);
    return m.sample_rate > 0 ? m.sample_rate : engine_config(e)->sample_rate;
}

int64_t tb_ns_to_frame(bm_engine *e, int64_t mono_ns)
{
    int64_t frame, ns;
    engine_time_anchor(e, &frame, &ns);
    return frame + (int64_t)((double)(mono_ns - ns) * 1e-9 * sample_rate(e));
}

int64_t tb_frame_to_ns(bm_engine *e, int64_t frame)
{
    int64_t f, ns;
    engine_time_anchor(e, &f, &ns);
    return ns + (int64_t)((double)(frame - f) / sample_rate(e) * 1e9);
}

int64_t tb_osc_to_ns(uint32_t sec, uint32_t frac)
{
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t real_now = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec;
    int64_t tag = ((int64_t)sec - NTP_UNIX_OFFSET) * 1000000000 + (int64_t)(((uint64_t)frac * 1000000000u) >> 32);
    return tb_mono_ns() + (tag - real_now);
}

int tb_osc_immediate(uint32_t sec, uint32_t frac) { return sec == 0 && frac <= 1; }
