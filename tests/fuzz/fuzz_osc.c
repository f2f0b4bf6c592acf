/* fuzz_osc.c: the OSC dispatcher (packet walker, bundles, every /bm address, the patch's mapped
 * addresses and a script's on_osc) must answer or ignore any packet, never crash, hang or leak,
 * and the engine must keep running between packets. */
#include "engine/control/control.h"
#include "engine/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bm_engine *engine;
static bm_control *control;
static int64_t frame;
static osc_peer peer;
static char script_path[64];

static void finish(void)
{
    control_destroy(control);
    engine_destroy(engine);
    if (script_path[0]) unlink(script_path);
}

static void setup(void)
{
    char err[512];
    bm_engine_config cfg;
    engine_config_defaults(&cfg);
    engine = engine_create(&cfg, err, sizeof err);
    if (!engine) abort();
    /* a script that listens to other addresses, so they reach Lua too */
    snprintf(script_path, sizeof script_path, "/tmp/bm-fuzz-osc-XXXXXX");
    int fd = mkstemp(script_path);
    if (fd < 0) abort();
    const char *code = "function on_osc(path, args, from) n = (n or 0) + #args; if path == '/reply' then\n"
                       "  osc.reply('/r', table.unpack(args)) end end\n";
    if (write(fd, code, strlen(code)) != (ssize_t)strlen(code)) abort();
    close(fd);
    static bm_patch patch;
    patch_defaults(&patch);
    snprintf(patch.osc_map[0].path, sizeof patch.osc_map[0].path, "/1/fader1");
    snprintf(patch.osc_map[0].param[0], sizeof patch.osc_map[0].param[0], "master_gain");
    patch.osc_map[0].nparams = 1;
    patch.n_osc_map = 1;
    bm_control_opts o;
    control_opts_defaults(&o);
    o.osc = 0;
    o.quiet = 1;
    o.watch = 0;
    o.script = script_path;
    control = control_create(engine, NULL, &patch, &o, err, sizeof err);
    if (!control || control_start(control, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_osc: %s\n", err);
        abort();
    }
    char e2[64];
    osc_peer_from_host("127.0.0.1", 9, &peer, e2, sizeof e2);
    atexit(finish);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!engine) setup();
    control_handle_packet(control, data, size, &peer);
    static float l[64], r[64];
    bm_io io = {0};
    io.frame = frame;
    io.nframes = 64;
    io.audio_out[0] = l;
    io.audio_out[1] = r;
    engine_process(engine, &io);
    engine_musician_poll(engine, frame + 64);
    frame += 64;
    control_step(control, frame);
    engine_collect_garbage(engine);
    return 0;
}
