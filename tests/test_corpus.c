/* test_corpus.c: the training-corpus build (tools/corpus) makes a tiny corpus twice, identically,
 * and verifies its songs, charts, splits and report. */
#include "test.h"

#include <unistd.h>

TEST_TIMEOUT(corpus_tiny_build_is_valid_and_reproducible, 180)
{
#ifdef BM_SANITIZED
    test_skip("the corpus build is Lua and shell, checked once in the plain build");
#endif
    if (access("/usr/bin/mma", X_OK) != 0 || access("/usr/bin/lua5.4", X_OK) != 0)
        test_skip("mma or lua5.4 is not installed (make deps installs them)");
    char out[16384];
    int rc = test_run("tools/corpus/check.sh 24", out, sizeof out, 170);
    CHECKF(rc == 0, "the corpus check failed (%d):\n%s", rc, out);
    CHECK_STR_CONTAINS(out, "0 failed");
}
