/* jackd.h: a private JACK server (dummy backend) for a test, under a unique name, always stopped:
 * explicitly, or by the kernel when the test process dies (parent-death signal). */
#pragma once

#include <sys/types.h>

typedef struct test_jackd {
    pid_t pid;
    char name[64];
    int rate, period;
} test_jackd;

/* Starts jackd -d dummy at rate and period and waits until it accepts clients; fails the test
 * (or skips it when jackd is not installed). */
void test_jackd_start(test_jackd *j, int rate, int period);

/* Stops the server (SIGTERM, then SIGKILL after 3 s) and waits for it. */
void test_jackd_stop(test_jackd *j);

/* Kills the server at once (SIGKILL), as a crash would. */
void test_jackd_kill(test_jackd *j);
