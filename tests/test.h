/* test.h: bandmate's small test framework: self-registering tests, each run in its own process. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

typedef void (*test_fn)(void);

/* Registers a test; called by TEST() before main. */
void test_register(const char *name, const char *file, test_fn fn, int timeout_s);

/* Records a failed check and ends the current test. */
_Noreturn void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Marks the current test as skipped (for a reason the environment imposes) and ends it. */
_Noreturn void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A scratch directory private to the running test (created on first use, removed after a pass). */
const char *test_tmpdir(void);

/* Builds a path inside test_tmpdir() into a static rotating buffer. */
const char *test_path(const char *name);

/* The directory holding the bandmate binary under test (the build's root). */
const char *test_bindir(void);

/* Runs a command line through sh; returns its exit status (or 128+signal); captures stdout+stderr
 * into out (up to cap-1 bytes, NUL-terminated) when out is not NULL. Kills it after timeout_s. */
int test_run(const char *cmd, char *out, size_t cap, int timeout_s);

#define TEST_TIMEOUT(name, secs)                                                        \
    static void name(void);                                                             \
    __attribute__((constructor)) static void test_reg_##name(void)                     \
    {                                                                                   \
        test_register(#name, __FILE__, name, secs);                                     \
    }                                                                                   \
    static void name(void)

#define TEST(name) TEST_TIMEOUT(name, 60)

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                 \
    } while (0)

#define CHECKF(cond, ...)                                                               \
    do {                                                                                \
        if (!(cond)) test_fail(__FILE__, __LINE__, __VA_ARGS__);                        \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                              \
    do {                                                                                \
        long long va_ = (long long)(a), vb_ = (long long)(b);                           \
        if (va_ != vb_)                                                                 \
            test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, va_,  \
                      #b, vb_);                                                         \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                           \
    do {                                                                                \
        double va_ = (double)(a), vb_ = (double)(b);                                    \
        if (!(fabs(va_ - vb_) <= (tol)))                                                \
            test_fail(__FILE__, __LINE__, "%s = %.9g, expected %.9g (tol %g)", #a, va_, \
                      vb_, (double)(tol));                                              \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                 \
    do {                                                                                \
        const char *h_ = (hay), *n_ = (needle);                                         \
        if (!h_ || !strstr(h_, n_))                                                     \
            test_fail(__FILE__, __LINE__, "expected \"%s\" in: %s", n_, h_ ? h_ : "(null)"); \
    } while (0)
