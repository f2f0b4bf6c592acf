/* jackd_spawn.h: a private JACK server with the dummy backend (no sound card needed), for the
 * benchmarks, the demo and the tests. It dies with the process that started it. */
#pragma once

#include <sys/types.h>

typedef struct bm_jackd {
    pid_t pid;
    char name[64];
    int rate, period;
} bm_jackd;

/* Starts `jackd -n NAME -d dummy -r rate -p period` under a name unique to this process and waits
 * until it accepts clients. Its output goes to log (may be NULL). 0, or -1 with one sentence in err. */
int jackd_spawn(bm_jackd *j, int rate, int period, const char *log, char *err, size_t errlen);

/* Stops the server (SIGTERM, then SIGKILL after 3 s) and waits for it. */
void jackd_stop(bm_jackd *j);

/* Kills it at once, as a crash would; then frees the entry it leaves in JACK's registry (which
 * holds 8 servers at most) by starting and stopping a server of the same name. */
void jackd_kill(bm_jackd *j);
