/* jackd.c: private dummy-backend JACK servers for the tests. */
#include "jackd.h"
#include "test.h"

#include <jack/jack.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void quiet(const char *m) { (void)m; }

/* JACK keeps at most 8 servers in its registry and reclaims the slot of a killed server only when a
 * server of the same name starts again; so the tests use a few fixed names and take the first free
 * one, instead of a new name each time (which would fill the registry with dead servers). */
#define NAME_SLOTS 6

static int try_start(test_jackd *j, const char *log)
{
    pid_t parent = getpid();
    j->pid = fork();
    if (j->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        FILE *f = freopen(log, "w", stdout);
        (void)f;
        dup2(1, 2);
        char r[16], p[16];
        snprintf(r, sizeof r, "%d", j->rate);
        snprintf(p, sizeof p, "%d", j->period);
        setenv("JACK_NO_AUDIO_RESERVATION", "1", 1);
        execl("/usr/bin/jackd", "jackd", "-n", j->name, "-d", "dummy", "-r", r, "-p", p, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        jack_status_t st;
        jack_client_t *c = jack_client_open("probe", JackNoStartServer | JackServerName, &st, j->name);
        if (c) {
            jack_client_close(c);
            return 1;
        }
        int status;
        if (waitpid(j->pid, &status, WNOHANG) == j->pid) {
            j->pid = 0;
            return 0; /* the name is taken (or jackd failed: the caller reads the log) */
        }
        usleep(50000);
    }
    test_jackd_kill(j);
    test_fail(__FILE__, __LINE__, "jackd did not accept clients within 5 s (see %s)", log);
}

void test_jackd_start(test_jackd *j, int rate, int period)
{
    if (access("/usr/bin/jackd", X_OK) != 0) test_skip("jackd is not installed (make deps installs jackd2)");
    j->rate = rate;
    j->period = period;
    jack_set_error_function(quiet);
    jack_set_info_function(quiet);
    char log[1024];
    snprintf(log, sizeof log, "%s", test_path("jackd.log"));
    for (int round = 0; round < 20; round++) {
        for (int slot = 0; slot < NAME_SLOTS; slot++) {
            snprintf(j->name, sizeof j->name, "bmtest%d", slot);
            jack_status_t st;
            jack_client_t *c = jack_client_open("probe", JackNoStartServer | JackServerName, &st, j->name);
            if (c) { /* in use by another test run */
                jack_client_close(c);
                continue;
            }
            if (try_start(j, log)) return;
        }
        usleep(250000);
    }
    test_fail(__FILE__, __LINE__, "no JACK server could start (see %s)", log);
}

void test_jackd_stop(test_jackd *j)
{
    if (j->pid <= 0) return;
    kill(j->pid, SIGTERM);
    for (int i = 0; i < 60; i++) {
        if (waitpid(j->pid, NULL, WNOHANG) == j->pid) {
            j->pid = 0;
            return;
        }
        usleep(50000);
    }
    test_jackd_kill(j);
}

void test_jackd_kill(test_jackd *j)
{
    if (j->pid <= 0) return;
    kill(j->pid, SIGKILL);
    waitpid(j->pid, NULL, 0);
    j->pid = 0;
    /* a killed server leaves its semaphores and shared memory behind */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf /dev/shm/*%s* /dev/shm/jack-*/%s 2>/dev/null", j->name, j->name);
    int rc = system(cmd);
    (void)rc;
}
