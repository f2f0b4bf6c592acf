/* mus_plot.c: loss curves with cairo. */
#include "engine/musician/mus_plot.h"
#include "engine/util.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXPTS 100000
#define NSERIES 7

static const char *const series_names[NSERIES] = {"train (all heads)", "valid (all heads)", "valid bass",
                                                  "valid drums", "valid comping rhythm",
                                                  "valid comping chord", "valid lead"};
static const double series_rgb[NSERIES][3] = {{0.6, 0.6, 0.6}, {0.1, 0.1, 0.1}, {0.85, 0.3, 0.1},
                                              {0.2, 0.5, 0.85}, {0.3, 0.65, 0.3}, {0.6, 0.3, 0.7},
                                              {0.85, 0.65, 0.1}};

int mus_plot_losses(const char *tsv, const char *png, const char *title, char *err, size_t errlen)
{
    FILE *f = fopen(tsv, "r");
    if (!f) {
        bm_errf(err, errlen, "the training log %s cannot be read", tsv);
        return -1;
    }
    double *x = malloc(MAXPTS * sizeof *x), *y = malloc((size_t)MAXPTS * NSERIES * sizeof *y);
    if (!x || !y) {
        fclose(f);
        free(x);
        free(y);
        bm_errf(err, errlen, "out of memory plotting %s", tsv);
        return -1;
    }
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < MAXPTS) {
        if (line[0] == '#' || !strncmp(line, "step", 4)) continue;
        double v[11];
        int k = sscanf(line, "%lf %lf %lf %lf %lf %lf %lf %lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3], &v[4],
                       &v[5], &v[6], &v[7], &v[8], &v[9], &v[10]);
        if (k < 6) continue;
        x[n] = v[1] / 1e6; /* tokens, millions */
        for (int s = 0; s < NSERIES; s++) y[(size_t)n * NSERIES + s] = s + 4 < k ? v[s + 4] : NAN;
        n++;
    }
    fclose(f);
    int W = 1000, H = 560, L = 70, R = 220, T = 40, B = 50;
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(sf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    double xmax = n ? x[n - 1] : 1, ymin = 1e30, ymax = -1e30;
    for (int i = 0; i < n; i++)
        for (int s = 0; s < 2; s++) {
            double v = y[(size_t)i * NSERIES + s];
            if (isfinite(v) && v > 0) {
                ymin = v < ymin ? v : ymin;
                ymax = v > ymax ? v : ymax;
            }
        }
    if (ymin > ymax) { ymin = 0.1; ymax = 10; }
    for (int i = 0; i < n; i++)
        for (int s = 2; s < NSERIES; s++) {
            double v = y[(size_t)i * NSERIES + s];
            if (isfinite(v) && v > 0) ymin = v < ymin ? v : ymin;
        }
    /* log scale on y */
    double ly0 = log10(ymin * 0.9), ly1 = log10(ymax * 1.1);
    if (xmax <= 0) xmax = 1;
    int pw = W - L - R, ph = H - T - B;
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_set_line_width(cr, 1);
    for (int e = (int)floor(ly0); e <= (int)ceil(ly1); e++)
        for (int m = 1; m < 10; m++) {
            double v = log10(m * pow(10, e));
            if (v < ly0 || v > ly1) continue;
            double py = T + ph * (1 - (v - ly0) / (ly1 - ly0));
            cairo_move_to(cr, L, py);
            cairo_line_to(cr, L + pw, py);
            cairo_stroke(cr);
            if (m == 1 || m == 2 || m == 5) {
                char lab[32];
                snprintf(lab, sizeof lab, "%g", m * pow(10, e));
                cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
                cairo_move_to(cr, 8, py + 4);
                cairo_show_text(cr, lab);
                cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
            }
        }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, L, T, pw, ph);
    cairo_stroke(cr);
    for (int i = 0; i <= 5; i++) {
        double v = xmax * i / 5, px = L + pw * v / xmax;
        char lab[32];
        snprintf(lab, sizeof lab, "%.1fM", v);
        cairo_move_to(cr, px - 12, T + ph + 18);
        cairo_show_text(cr, lab);
    }
    cairo_move_to(cr, L + pw / 2 - 60, H - 10);
    cairo_show_text(cr, "training tokens (grid steps)");
    cairo_move_to(cr, L, 24);
    cairo_set_font_size(cr, 14);
    cairo_show_text(cr, title ? title : "musician training");
    cairo_set_font_size(cr, 11);
    for (int s = 0; s < NSERIES; s++) {
        cairo_set_source_rgb(cr, series_rgb[s][0], series_rgb[s][1], series_rgb[s][2]);
        cairo_set_line_width(cr, s < 2 ? 2.0 : 1.2);
        int pen = 0;
        for (int i = 0; i < n; i++) {
            double v = y[(size_t)i * NSERIES + s];
            if (!isfinite(v) || v <= 0) continue;
            double px = L + pw * x[i] / xmax, py = T + ph * (1 - (log10(v) - ly0) / (ly1 - ly0));
            if (!pen) cairo_move_to(cr, px, py);
            else cairo_line_to(cr, px, py);
            pen = 1;
        }
        cairo_stroke(cr);
        cairo_rectangle(cr, W - R + 15, T + 10 + s * 20, 18, 4);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, W - R + 40, T + 16 + s * 20);
        cairo_show_text(cr, series_names[s]);
    }
    cairo_move_to(cr, W - R + 15, T + 16 + NSERIES * 20 + 10);
    cairo_show_text(cr, "loss in nats per step (log scale)");
    cairo_status_t st = cairo_surface_write_to_png(sf, png);
    cairo_destroy(cr);
    cairo_surface_destroy(sf);
    free(x);
    free(y);
    if (st != CAIRO_STATUS_SUCCESS) {
        bm_errf(err, errlen, "cannot write the plot %s: %s", png, cairo_status_to_string(st));
        return -1;
    }
    return 0;
}
