/* keys.c: single-key commands from the terminal. */
#include "engine/keys.h"
#include "engine/behaviour.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static int active;

int keys_start(void)
{
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) != 0) return 0;
    struct termios t = saved;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) != 0) return 0;
    active = 1;
    atexit(keys_stop);
    return 1;
}

void keys_stop(void)
{
    if (!active) return;
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    active = 0;
}

int keys_poll(bm_engine *e, char *mode, size_t mode_cap)
{
    if (!active) return 0;
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    /* keys typed together build on each other (the engine applies them at its next period) */
    bm_clock_map map;
    clock_read_published(engine_clock(e), &map);
    while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
        char c;
        if (read(STDIN_FILENO, &c, 1) != 1) break;
        bm_command cmd = {0};
        switch (c) {
        case 't':
            cmd.type = BM_CMD_TAP;
            cmd.value = (double)engine_now_frame(e);
            break;
        case ' ':
            cmd.type = BM_CMD_ROLLING;
            cmd.value = !map.rolling;
            map.rolling = !map.rolling;
            break;
        case '+':
        case '=':
            cmd.type = BM_CMD_TEMPO;
            cmd.value = map.bpm = map.bpm + 1 > BM_MAX_BPM ? BM_MAX_BPM : map.bpm + 1;
            break;
        case '-':
            cmd.type = BM_CMD_TEMPO;
            cmd.value = map.bpm = map.bpm - 1 < BM_MIN_BPM ? BM_MIN_BPM : map.bpm - 1;
            break;
        case 'p':
            engine_panic(e);
            break;
        case 'm': {
            int i = 0, n = 0;
            while (bm_mode_names[n]) n++;
            for (i = 0; i < n; i++)
                if (!strcmp(bm_mode_names[i], mode)) break;
            const char *next = bm_mode_names[(i + 1) % n];
            char err[256];
            if (engine_set_mode(e, next, err, sizeof err) == 0) snprintf(mode, mode_cap, "%s", next);
            break;
        }
        case 'q':
            return 1;
        default:
            break;
        }
        if (cmd.type) engine_command(e, &cmd);
    }
    return 0;
}
