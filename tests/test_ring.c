/* test_ring.c: the SPSC ring, alone and across two threads. */
#include "test.h"
#include "engine/ring.h"

#include <pthread.h>

TEST(ring_push_pop_wraps_and_refuses_when_full)
{
    ring *r = ring_create(sizeof(int), 5); /* rounds up to 8 */
    CHECK_EQ_INT(ring_capacity(r), 8);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 8; i++) CHECK(ring_push(r, &i) == 0);
        int x = 99;
        CHECK(ring_push(r, &x) == -1);
        CHECK_EQ_INT(ring_count(r), 8);
        for (int i = 0; i < 8; i++) {
            CHECK(ring_pop(r, &x) == 0);
            CHECK_EQ_INT(x, i);
        }
        CHECK(ring_pop(r, &x) == -1);
        CHECK(ring_peek(r) == NULL);
    }
    int many[6] = {1, 2, 3, 4, 5, 6}, got[6];
    CHECK(ring_push_n(r, many, 6) == 0);
    CHECK(ring_push_n(r, many, 3) == -1); /* all or nothing */
    CHECK_EQ_INT(ring_count(r), 6);
    CHECK_EQ_INT(*(const int *)ring_peek(r), 1);
    CHECK_EQ_INT(ring_pop_n(r, got, 10), 6);
    CHECK_EQ_INT(got[5], 6);
    ring_destroy(r);
}

struct xfer {
    ring *r;
    long n;
};

static void *producer(void *arg)
{
    struct xfer *x = arg;
    for (long i = 0; i < x->n;) {
        long v[3] = {i, i * 7, ~i};
        if (ring_push(x->r, v) == 0) i++;
    }
    return NULL;
}

TEST(ring_two_threads_deliver_every_element_in_order)
{
    struct xfer x = {ring_create(3 * sizeof(long), 64), 300000};
    pthread_t t;
    pthread_create(&t, NULL, producer, &x);
    long expect = 0;
    while (expect < x.n) {
        long v[3];
        if (ring_pop(x.r, v) != 0) continue;
        CHECK_EQ_INT(v[0], expect);
        CHECK_EQ_INT(v[1], expect * 7);
        CHECK_EQ_INT(v[2], ~expect);
        expect++;
    }
    pthread_join(t, NULL);
    ring_destroy(x.r);
}
