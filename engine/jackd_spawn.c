/* jackd_spawn.c: private dummy-backend JACK servers. */
#include "engine/jackd_spawn.h"

#include <jack/jack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define NAME_SLOTS 6
#define JACKD "/usr/bin/jackd"

static void quiet(const char *m) { (void)m; }

/* 1 when the server accepts clients, 0 when jackd exited (name taken or failure), -1 on timeout. */
static int try_start(bm_jackd *j, const char *log)
{
    pid_t parent = getpid();
    j->pid = fork();
    if (j->pid < 0) return 0;
    if (j->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        if (!freopen(log ? log : "/dev/null", "w", stdout)) _exit(1);
        dup2(1, 2);
        char r[16], p[16];
        snprintf(r, sizeof r, "%d", j->rate);
        snprintf(p, sizeof p, "%d", j->period);
        setenv("JACK_NO_AUDIO_RESERVATION", "1", 1);
        execl(JACKD, "jackd", "-n", j->name, "-d", "dummy", "-r", r, "-p", p, (char *)NULL);
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
            return 0;
        }
        usleep(50000);
    }
    jackd_kill(j);
    return -1;
}

int jackd_spawn(bm_jackd *j, int rate, int period, const char *log, char *err, size_t errlen)
{
    if (access(JACKD, X_OK) != 0) {
        snprintf(err, errlen, "jackd is not installed ('make deps' installs jackd2)");
        return -1;
    }
    j->rate = rate;
    j->period = period;
    jack_set_error_function(quiet);
    jack_set_info_function(quiet);
    for (int round = 0; round < 20; round++) {
        for (int slot = 0; slot < NAME_SLOTS; slot++) {
            snprintf(j->name, sizeof j->name, "bmtest%d", slot);
            jack_status_t st;
            jack_client_t *c = jack_client_open("probe", JackNoStartServer | JackServerName, &st, j->name);
            if (c) { /* taken by another run */
                jack_client_close(c);
                continue;
            }
            int r = try_start(j, log);
            if (r == 1) return 0;
            if (r < 0) {
                snprintf(err, errlen, "jackd did not accept clients within 5 s%s%s", log ? "; see " : "", log ? log : "");
                return -1;
            }
        }
        usleep(250000);
    }
    snprintf(err, errlen, "no private JACK server could start%s%s", log ? "; see " : "", log ? log : "");
    return -1;
}

void jackd_stop(bm_jackd *j)
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
    jackd_kill(j);
}

void jackd_kill(bm_jackd *j)
{
    if (j->pid <= 0) return;
    kill(j->pid, SIGKILL);
    waitpid(j->pid, NULL, 0);
    j->pid = 0;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf /dev/shm/*%s_* /dev/shm/jack-*/%s 2>/dev/null", j->name, j->name);
    int rc = system(cmd);
    (void)rc;
}
