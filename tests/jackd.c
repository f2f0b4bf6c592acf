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

void test_jackd_start(test_jackd *j, int rate, int period)
{
    if (access("/usr/bin/jackd", X_OK) != 0) test_skip("jackd is not installed (make deps installs jackd2)");
    static int counter;
    snprintf(j->name, sizeof j->name, "bmtest-%d-%d", (int)getpid(), counter++);
    j->rate = rate;
    j->period = period;
    char log[1024];
    snprintf(log, sizeof log, "%s", test_path("jackd.log"));
    pid_t parent = getpid();
    j->pid = fork();
    if (j->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        FILE *f = freopen(log, "w", stdout);
        (void)f;
        dup2(1, 2);
        char r[16], p[16];
        snprintf(r, sizeof r, "%d", rate);
        snprintf(p, sizeof p, "%d", period);
        setenv("JACK_NO_AUDIO_RESERVATION", "1", 1);
        execl("/usr/bin/jackd", "jackd", "-n", j->name, "-d", "dummy", "-r", r, "-p", p, (char *)NULL);
        _exit(127);
    }
    jack_set_error_function(quiet);
    jack_set_info_function(quiet);
    for (int i = 0; i < 100; i++) {
        jack_status_t st;
        jack_client_t *c = jack_client_open("probe", JackNoStartServer | JackServerName, &st, j->name);
        if (c) {
            jack_client_close(c);
            return;
        }
        int status;
        if (waitpid(j->pid, &status, WNOHANG) == j->pid)
            test_fail(__FILE__, __LINE__, "jackd exited at start (see %s)", log);
        usleep(50000);
    }
    test_jackd_kill(j);
    test_fail(__FILE__, __LINE__, "jackd did not accept clients within 5 s (see %s)", log);
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
