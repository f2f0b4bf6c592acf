/* watch.h: notices that a file changed on disk (a script being edited), by looking at its size,
 * modification time and inode a few times a second, and reports a change only once the file has
 * stayed the same for a moment (editors save in several steps). Control thread only. */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

typedef struct bm_watch {
    char path[1024];
    int exists;
    struct timespec mtime;
    off_t size;
    ino_t ino;
    int64_t next_check_ns;
    int changing;           /* a change seen, waiting for it to settle */
} bm_watch;

/* Starts watching a file ("" stops). */
void watch_set(bm_watch *w, const char *path, int64_t now_ns);

/* 1 once when the file has changed and settled since the last report (or since watch_set). */
int watch_poll(bm_watch *w, int64_t now_ns);
