/* nn_par.h: internal: a small persistent thread pool for the training math (large products and
 * the batch rows of the recurrences split across cores; OpenBLAS itself runs single-threaded). */
#pragma once

/* Runs fn(ctx, i) for i in [0, n) on up to nn_threads() threads (the caller's included) and returns
 * when all are done. Not real-time; not reentrant (call from one training thread). */
void nn_parallel(int n, void (*fn)(void *ctx, int i), void *ctx);

/* How many row chunks to split a batch of B rows into: one per thread, at least 4 rows each. */
int nn_row_chunks(int B);

/* Non-zero on a thread that is running a task of nn_parallel. */
int nn_in_parallel(void);
