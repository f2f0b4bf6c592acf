/* pianoroll.c: session MIDI to a piano-roll PNG with cairo. */
#include "engine/pianoroll.h"
#include "engine/event.h"
#include "engine/smf.h"
#include "engine/util.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct note {
    double start, end; /* seconds */
    int pitch, vel, part;
};

static const double colours[BM_NUM_PARTS + 1][3] = {
    {0.10, 0.10, 0.10}, /* human: near black */
    {0.20, 0.45, 0.85}, /* bass: blue */
    {0.85, 0.35, 0.20}, /* drums: red-orange */
    {0.25, 0.65, 0.35}, /* comping: green */
    {0.65, 0.30, 0.75}, /* lead: purple */
    {0.60, 0.60, 0.60}, /* other */
};

int pianoroll_write(const char *mid_path, const char *png_path, int width, char *err, size_t errlen)
{
    smf *s;
    if (smf_read_file(mid_path, &s, err, errlen) != 0) return -1;
    smf_tempo_map map;
    if (smf_tempo_map_build(s, &map) != 0) {
        smf_free(s);
        bm_errf(err, errlen, "out of memory");
        return -1;
    }
    size_t cap = 0;
    for (int t = 0; t < s->ntracks; t++) cap += s->tracks[t].n;
    struct note *notes = calloc(cap + 1, sizeof *notes);
    size_t n = 0;
    double end_time = 1;
    int lo = 127, hi = 0;
    for (int t = 0; t < s->ntracks && notes; t++) {
        int part = bm_part_from_name(s->tracks[t].name);
        if (part < 0) part = BM_NUM_PARTS;
        double on_at[16][128];
        int on_vel[16][128];
        memset(on_vel, 0, sizeof on_vel);
        for (size_t i = 0; i < s->tracks[t].n; i++) {
            const smf_event *e = &s->tracks[t].events[i];
            if (e->kind != SMF_MIDI || e->nbytes < 3) continue;
            int st = e->bytes[0] & 0xf0, ch = e->bytes[0] & 15, p = e->bytes[1] & 127;
            double sec = smf_tempo_map_seconds(&map, e->tick);
            if (st == 0x90 && e->bytes[2]) {
                on_at[ch][p] = sec;
                on_vel[ch][p] = e->bytes[2];
            } else if ((st == 0x80 || st == 0x90) && on_vel[ch][p]) {
                double len = sec - on_at[ch][p];
                if (part == BM_PART_DRUMS && len < 0.08) len = 0.08; /* hits are short: show them */
                notes[n++] = (struct note){on_at[ch][p], on_at[ch][p] + len, p, on_vel[ch][p], part};
                on_vel[ch][p] = 0;
                if (p < lo) lo = p;
                if (p > hi) hi = p;
                if (on_at[ch][p] + len > end_time) end_time = on_at[ch][p] + len;
            }
        }
    }
    if (!notes) {
        smf_tempo_map_free(&map);
        smf_free(s);
        bm_errf(err, errlen, "out of memory");
        return -1;
    }
    if (n == 0) lo = 48, hi = 72;
    lo = lo - 2 < 0 ? 0 : lo - 2;
    hi = hi + 2 > 127 ? 127 : hi + 2;
    if (width <= 0) width = (int)(end_time * 40) + 60; /* automatic: 40 pixels a second */
    if (width < 800) width = 800;
    if (width > 20000) width = 20000;
    int row = 6, margin = 40, legend = 28;
    int height = (hi - lo + 1) * row + margin + legend;
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_t *cr = cairo_create(surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    double plot_w = width - margin - 10;
    double xs = plot_w / end_time;
    double y0 = legend;
    /* C rows shaded, bars and beats from the first track's tempo map at 4/4 unless told otherwise */
    for (int p = lo; p <= hi; p++) {
        if (p % 12 == 0 || p % 12 == 1 || p % 12 == 3 || p % 12 == 6 || p % 12 == 8 || p % 12 == 10) {
            cairo_set_source_rgb(cr, 0.95, 0.95, 0.95);
            cairo_rectangle(cr, margin, y0 + (hi - p) * row, plot_w, row);
            cairo_fill(cr);
        }
    }
    int bpb = 4;
    for (int t = 0; t < s->ntracks; t++)
        for (size_t i = 0; i < s->tracks[t].n; i++) {
            const smf_event *e = &s->tracks[t].events[i];
            if (e->kind == SMF_META && e->meta_type == SMF_META_TIME_SIGNATURE && e->data_len >= 1 && e->tick == 0) {
                int v = s->blob[e->data_off];
                if (v >= 1 && v <= 32) bpb = v;
            }
        }
    for (long beat = 0;; beat++) {
        double sec = smf_tempo_map_seconds(&map, (uint64_t)beat * (uint64_t)s->division);
        if (sec > end_time) break;
        double x = margin + sec * xs;
        int bar = beat % bpb == 0;
        cairo_set_source_rgb(cr, bar ? 0.6 : 0.85, bar ? 0.6 : 0.85, bar ? 0.6 : 0.85);
        cairo_set_line_width(cr, bar ? 1.0 : 0.5);
        cairo_move_to(cr, x, y0);
        cairo_line_to(cr, x, y0 + (hi - lo + 1) * row);
        cairo_stroke(cr);
        if (bar && beat / bpb % 4 == 0) {
            char label[16];
            snprintf(label, sizeof label, "%ld", beat / bpb + 1);
            cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
            cairo_set_font_size(cr, 10);
            cairo_move_to(cr, x + 2, y0 + (hi - lo + 1) * row + 12);
            cairo_show_text(cr, label);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct note *nt = &notes[i];
        const double *c = colours[nt->part];
        double a = 0.45 + 0.55 * nt->vel / 127.0;
        cairo_set_source_rgba(cr, c[0], c[1], c[2], a);
        double w = (nt->end - nt->start) * xs;
        cairo_rectangle(cr, margin + nt->start * xs, y0 + (hi - nt->pitch) * row + 0.5, w < 1.5 ? 1.5 : w, row - 1);
        cairo_fill(cr);
    }
    /* octave labels and the legend */
    cairo_set_font_size(cr, 9);
    for (int p = lo; p <= hi; p++)
        if (p % 12 == 0) {
            char label[8];
            snprintf(label, sizeof label, "C%d", p / 12 - 1);
            cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
            cairo_move_to(cr, 4, y0 + (hi - p) * row + row);
            cairo_show_text(cr, label);
        }
    cairo_set_font_size(cr, 12);
    double lx = margin;
    for (int p = 0; p < BM_NUM_PARTS; p++) {
        cairo_set_source_rgb(cr, colours[p][0], colours[p][1], colours[p][2]);
        cairo_rectangle(cr, lx, 8, 14, 12);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_move_to(cr, lx + 18, 18);
        cairo_show_text(cr, bm_part_name(p));
        lx += 90;
    }
    cairo_destroy(cr);
    cairo_status_t st = cairo_surface_write_to_png(surf, png_path);
    cairo_surface_destroy(surf);
    free(notes);
    smf_tempo_map_free(&map);
    smf_free(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        bm_errf(err, errlen, "cannot write %s: %s", png_path, cairo_status_to_string(st));
        return -1;
    }
    return 0;
}
