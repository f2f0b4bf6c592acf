/* nn_bench.c: `bandmate bench nn` (to be filled in with the nn library). */
#include "nn/nn_bench.h"

#include <stdio.h>

int nn_bench_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bandmate: the nn benchmarks are not built yet.\n");
    return 1;
}
