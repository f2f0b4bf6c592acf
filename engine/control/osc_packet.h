/* osc_packet.h: OSC packets in and out. In: walks a packet (a message, or bundles nested at most
 * OSC_MAX_DEPTH deep), checks every length, decodes each message with liblo and hands it over with
 * the time tag of its innermost bundle. Out: builds a message into a caller's buffer. Malformed
 * input is reported, never trusted. Control thread. */
#pragma once

#include <lo/lo.h>
#include <stddef.h>
#include <stdint.h>

#define OSC_MAX_DEPTH 8

typedef struct osc_msg {
    const char *path;
    const char *types;      /* one letter per argument, no leading comma */
    lo_arg **argv;
    int argc;
    uint32_t tt_sec, tt_frac; /* time tag of the innermost bundle (0, 1: immediately) */
    int in_bundle;
    const uint8_t *raw;     /* the message's bytes (to keep it for later) */
    size_t rawlen;
} osc_msg;

/* Receives a well-formed message. */
typedef void (*osc_msg_fn)(void *ctx, const osc_msg *m);

/* Receives what was wrong with a malformed part of a packet (path may be NULL). */
typedef void (*osc_bad_fn)(void *ctx, const char *path, const char *why);

/* Walks a packet; returns the number of messages delivered. */
int osc_packet_walk(const uint8_t *data, size_t n, osc_msg_fn fn, osc_bad_fn bad, void *ctx);

/* Builds a message: types from "ifdhsTFN" with matching arguments (i: int, f and d: double, h:
 * int64_t, s: const char *, T/F/N: none) into buf; returns its length, or 0 when it does not fit
 * or a type is unknown. */
size_t osc_build(uint8_t *buf, size_t cap, const char *path, const char *types, ...);

/* The same from a liblo message already filled (the caller frees it). */
size_t osc_build_lo(uint8_t *buf, size_t cap, const char *path, lo_message m);

/* The value of an argument of type i, f, d or h (copied: liblo's argument pointers may be
 * misaligned for the lo_arg union). */
int32_t osc_arg_i32(const lo_arg *a);
float osc_arg_f32(const lo_arg *a);
double osc_arg_f64(const lo_arg *a);
int64_t osc_arg_i64(const lo_arg *a);

/* A number from a numeric argument (i, f, d, h, T, F); 0, or -1 for other types. */
int osc_arg_number(char type, const lo_arg *a, double *out);

/* A string from a string argument (s, S, c); NULL for other types. */
const char *osc_arg_string(char type, const lo_arg *a, char *tmp2);
