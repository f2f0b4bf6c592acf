/* jackd.h: a private JACK server (dummy backend) for a test, always stopped: explicitly, or by the
 * kernel when the test process dies. */
#pragma once

#include "engine/jackd_spawn.h"

typedef bm_jackd test_jackd;

/* Starts it (log in the test's scratch folder) or fails the test. */
void test_jackd_start(test_jackd *j, int rate, int period);

/* Stops it cleanly. */
void test_jackd_stop(test_jackd *j);

/* Kills it at once, as a crash would. */
void test_jackd_kill(test_jackd *j);
