/* osc_notify.c: feedback clients with token buckets. */
#include "engine/control/osc_notify.h"
#include "engine/control/osc_packet.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const char *const cat_names[] = {"params", "notes", "plan", "beats", "phrases", "xruns", "errors", "state"};

void notify_init(osc_notify *n, osc_net *net, double rate)
{
    memset(n, 0, sizeof *n);
    n->net = net;
    n->rate = rate > 0 ? rate : 200;
    n->burst = n->rate / 2 > 20 ? n->rate / 2 : 20;
}

int notify_parse_mask(const char *text, uint32_t *mask, char *err, size_t errlen)
{
    *mask = 0;
    if (!strcmp(text, "all") || !text[0]) {
        *mask = NOTIFY_ALL;
        return 0;
    }
    const char *p = text;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int found = 0;
        for (int i = 0; i < 8; i++)
            if (strlen(cat_names[i]) == len && !strncmp(p, cat_names[i], len)) {
                *mask |= 1u << i;
                found = 1;
            }
        if (!found) {
            snprintf(err, errlen, "'%.*s' is not a feedback category (all, params, notes, plan, beats, phrases, xruns, errors, state)",
                     (int)(len > 30 ? 30 : len), p);
            return -1;
        }
        p += len;
        if (*p == ',') p++;
    }
    return 0;
}

static void set_reply(notify_client *c, const osc_peer *peer, int reply_port)
{
    c->reply = *peer;
    if (reply_port <= 0 || peer->tcp >= 0) return;
    if (c->reply.addr.ss_family == AF_INET) ((struct sockaddr_in *)&c->reply.addr)->sin_port = htons((uint16_t)reply_port);
    else if (c->reply.addr.ss_family == AF_INET6) ((struct sockaddr_in6 *)&c->reply.addr)->sin6_port = htons((uint16_t)reply_port);
}

const osc_peer *notify_reply_to(const osc_notify *n, const osc_peer *sender)
{
    for (int i = 0; sender && i < NOTIFY_MAX_CLIENTS; i++)
        if (n->c[i].used && osc_peer_same(&n->c[i].peer, sender)) return &n->c[i].reply;
    return sender;
}

void notify_add(osc_notify *n, const osc_peer *peer, uint32_t mask, int reply_port, int64_t now_ns)
{
    int slot = -1, oldest = 0;
    for (int i = 0; i < NOTIFY_MAX_CLIENTS; i++) {
        if (n->c[i].used && osc_peer_same(&n->c[i].peer, peer)) {
            n->c[i].mask = mask;
            set_reply(&n->c[i], peer, reply_port);
            return;
        }
        if (!n->c[i].used && slot < 0) slot = i;
        if (n->c[i].since_ns < n->c[oldest].since_ns) oldest = i;
    }
    if (slot < 0) slot = oldest;
    notify_client *c = &n->c[slot];
    memset(c, 0, sizeof *c);
    c->used = 1;
    c->peer = *peer;
    set_reply(c, peer, reply_port);
    c->mask = mask;
    c->tokens = n->burst;
    c->refill_ns = now_ns;
    c->since_ns = now_ns;
}

int notify_remove(osc_notify *n, const osc_peer *peer)
{
    for (int i = 0; i < NOTIFY_MAX_CLIENTS; i++)
        if (n->c[i].used && osc_peer_same(&n->c[i].peer, peer)) {
            n->c[i].used = 0;
            return 0;
        }
    return -1;
}

int notify_wanted(const osc_notify *n, uint32_t category)
{
    for (int i = 0; i < NOTIFY_MAX_CLIENTS; i++)
        if (n->c[i].used && (n->c[i].mask & category)) return 1;
    return 0;
}

int notify_count(const osc_notify *n)
{
    int k = 0;
    for (int i = 0; i < NOTIFY_MAX_CLIENTS; i++) k += n->c[i].used;
    return k;
}

static void refill(osc_notify *n, notify_client *c, int64_t now_ns)
{
    double dt = (double)(now_ns - c->refill_ns) * 1e-9;
    if (dt <= 0) return;
    c->tokens += dt * n->rate;
    if (c->tokens > n->burst) c->tokens = n->burst;
    c->refill_ns = now_ns;
}

void notify_send(osc_notify *n, uint32_t category, const uint8_t *pkt, size_t len, int64_t now_ns)
{
    if (!len) return;
    for (int i = 0; i < NOTIFY_MAX_CLIENTS; i++) {
        notify_client *c = &n->c[i];
        if (!c->used || !(c->mask & category)) continue;
        refill(n, c, now_ns);
        if (c->tokens < 1) {
            c->dropped++;
            n->dropped++;
            continue;
        }
        c->tokens -= 1;
        if (osc_net_send(n->net, &c->reply, pkt, len) == 0) n->sent++;
        else if (c->peer.tcp >= 0) c->used = 0; /* its connection is gone */
    }
}

void notify_tick(osc_notify *n, int64_t now_ns)
{
    for (int i = 0; i < NOTIFY_MAX_CLIENTS; i++) {
        notify_client *c = &n->c[i];
        if (!c->used) continue;
        refill(n, c, now_ns);
        if (c->dropped != c->reported && c->tokens >= 1 && now_ns - c->report_ns >= 1000000000) {
            c->report_ns = now_ns;
            uint8_t buf[64];
            size_t len = osc_build(buf, sizeof buf, "/bm/event/dropped", "i", (int)(c->dropped - c->reported));
            if (osc_net_send(n->net, &c->reply, buf, len) == 0) c->tokens -= 1;
            c->reported = c->dropped;
        }
    }
}
