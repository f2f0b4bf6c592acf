/* jackd.c: private JACK servers for the tests (engine/jackd_spawn.c, failing the test on error). */
#include "jackd.h"
#include "test.h"

#include <unistd.h>

void test_jackd_start(test_jackd *j, int rate, int period)
{
    if (access("/usr/bin/jackd", X_OK) != 0) test_skip("jackd is not installed (make deps installs jackd2)");
    char err[512];
    if (jackd_spawn(j, rate, period, test_path("jackd.log"), err, sizeof err) != 0)
        test_fail(__FILE__, __LINE__, "%s", err);
}

void test_jackd_stop(test_jackd *j) { jackd_stop(j); }

void test_jackd_kill(test_jackd *j) { jackd_kill(j); }
