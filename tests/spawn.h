/* spawn.h: running the bandmate binary in the background from a test, with its output in a file. */
#pragma once

#include <sys/types.h>

/* Starts bandmate (from test_bindir()) with the given arguments (NULL-terminated), stdout and stderr
 * into log; it is killed if the test process dies. Returns its pid. */
pid_t spawn_bandmate(const char *log, const char *const *args);

/* Waits up to timeout_s for the process to exit; returns its exit status, 128+signal, or -1 on
 * timeout (the process is then killed). */
int spawn_wait(pid_t pid, double timeout_s);

/* Reads a whole (small) file into a static buffer, "" when missing. */
const char *slurp(const char *path);
