/* nn_bench.h: `bandmate bench nn`: streaming-step and training-throughput benchmarks of nn/. */
#pragma once

/* Runs the nn benchmarks with argv-style options (argv[0] is "nn"); prints a table; returns an exit code. */
int nn_bench_main(int argc, char **argv);
