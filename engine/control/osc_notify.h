/* osc_notify.h: the clients that asked for feedback (/bm/notify) and the rate limit that keeps a
 * busy show from flooding the network: each client has a token bucket (messages per second with a
 * burst); what does not fit is dropped, counted, and reported to the client once a second as
 * /bm/event/dropped. Control thread only. */
#pragma once

#include "engine/control/osc_net.h"

#include <stdint.h>

#define NOTIFY_MAX_CLIENTS 16

enum notify_category {
    NOTIFY_PARAMS = 1 << 0,   /* parameter values */
    NOTIFY_NOTES = 1 << 1,    /* notes played by the band and the performer */
    NOTIFY_PLAN = 1 << 2,     /* the band's planned notes */
    NOTIFY_BEATS = 1 << 3,    /* beats and tempo */
    NOTIFY_PHRASES = 1 << 4,  /* phrase ends (once bandmate detects phrases) */
    NOTIFY_XRUNS = 1 << 5,    /* audio dropouts */
    NOTIFY_ERRORS = 1 << 6,   /* script errors */
    NOTIFY_STATE = 1 << 7,    /* mode, transport, script and late-bundle reports */
    NOTIFY_ALL = 0xff,
};

typedef struct notify_client {
    int used;
    osc_peer peer;            /* who registered (address and port it sends from) */
    osc_peer reply;           /* where feedback and answers go (the same, or another port) */
    uint32_t mask;
    double tokens;
    int64_t refill_ns;
    int64_t since_ns;         /* when it registered (the oldest is replaced when full) */
    uint64_t dropped, reported;
    int64_t report_ns;        /* when drops were last reported */
} notify_client;

typedef struct osc_notify {
    notify_client c[NOTIFY_MAX_CLIENTS];
    double rate, burst;       /* messages per second, bucket size */
    osc_net *net;
    uint64_t sent, dropped;
} osc_notify;

/* No clients; rate messages per second per client. */
void notify_init(osc_notify *n, osc_net *net, double rate);

/* Parses a category list ("all", or names joined by commas: params, notes, plan, beats, phrases,
 * xruns, errors, state); 0, or -1 with err. */
int notify_parse_mask(const char *text, uint32_t *mask, char *err, size_t errlen);

/* Registers a client (or changes its categories); reply_port > 0 sends everything to that port of
 * the client's address instead of the port it sends from (Max's udpsend, TouchOSC). Replaces the
 * oldest client when full. */
void notify_add(osc_notify *n, const osc_peer *peer, uint32_t mask, int reply_port, int64_t now_ns);

/* Where answers to this sender go: its registered reply address, or the sender itself. */
const osc_peer *notify_reply_to(const osc_notify *n, const osc_peer *sender);

/* Forgets a client; 0, or -1 when it was not registered. */
int notify_remove(osc_notify *n, const osc_peer *peer);

/* 1 when some client wants the category (callers skip building what nobody wants). */
int notify_wanted(const osc_notify *n, uint32_t category);

/* Sends a packet to every client that wants its category and has a token left. */
void notify_send(osc_notify *n, uint32_t category, const uint8_t *pkt, size_t len, int64_t now_ns);

/* Refills tokens and reports drops (call often). */
void notify_tick(osc_notify *n, int64_t now_ns);

/* Registered clients. */
int notify_count(const osc_notify *n);
