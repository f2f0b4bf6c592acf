/* mus_plot.h: the loss curves of a training log (the TSV that mus_train writes) as a PNG. */
#pragma once

#include <stddef.h>

/* Draws training and validation loss against tokens seen; 0, or -1 with one sentence in err. */
int mus_plot_losses(const char *tsv_path, const char *png_path, const char *title, char *err,
                    size_t errlen);
