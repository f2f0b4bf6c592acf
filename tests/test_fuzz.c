/* test_fuzz.c: replays every fuzz target over its seed corpus and deterministic mutations. */
#include "test.h"

#include <dirent.h>

TEST_TIMEOUT(fuzz_targets_survive_mutations, 240)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fuzz", test_bindir());
    DIR *d = opendir(dir);
    if (!d) test_skip("no fuzz targets built in %s", dir);
    struct dirent *e;
    int ran = 0;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "fuzz_", 5) != 0) continue;
        char cmd[4096], out[8192];
        snprintf(cmd, sizeof cmd, "%s/%s -n 20000 tests/fuzz/corpus/%s", dir, e->d_name,
                 e->d_name + 5);
        int rc = test_run(cmd, out, sizeof out, 200);
        CHECKF(rc == 0, "%s exited %d:\n%s", e->d_name, rc, out);
        ran++;
    }
    closedir(d);
    CHECK(ran > 0);
}
