/* osc_net.h: the OSC sockets: one UDP socket on a configurable address and port, optionally a TCP
 * listener on the same port (OSC 1.0 length-prefixed streams, or SLIP as OSC 1.1 has it), an
 * allow-list of client addresses, and non-blocking sends that never stall the control thread (a
 * TCP client that stops reading is disconnected). Control thread only. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define OSC_NET_MAX_ALLOW 16
#define OSC_NET_MAX_TCP 8
#define OSC_MAX_PACKET 65536

typedef struct osc_peer {
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int tcp;                /* -1: UDP; otherwise the TCP connection's slot */
    uint32_t gen;           /* the slot's generation: replies to a closed connection are dropped */
} osc_peer;

typedef struct osc_allow {
    int family;             /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    int bits;               /* prefix length */
} osc_allow;

typedef struct osc_net_opts {
    int port;               /* 0: any free port (osc_net_port tells which) */
    const char *bind;       /* numeric address to bind; NULL: every IPv4 interface */
    int tcp;                /* also listen on TCP at the same port number */
    osc_allow allow[OSC_NET_MAX_ALLOW];
    int nallow;             /* 0: every client may talk to bandmate */
} osc_net_opts;

typedef struct osc_net osc_net;

/* Receives one packet (a message or a bundle) from a peer. */
typedef void (*osc_packet_fn)(void *ctx, const uint8_t *data, size_t n, const osc_peer *from);

/* Parses "192.168.1.0/24", "10.0.0.7", "::1" or "fe80::/10" into an allow-list entry; 0, or -1
 * with one sentence in err. */
int osc_allow_parse(const char *text, osc_allow *out, char *err, size_t errlen);

/* Opens the sockets; NULL with one sentence in err (port in use, bad address). */
osc_net *osc_net_open(const osc_net_opts *o, char *err, size_t errlen);

/* Closes everything. */
void osc_net_close(osc_net *n);

/* The UDP port bound. */
int osc_net_port(const osc_net *n);

/* Waits until a socket is readable or timeout_ns passes (0: just look); 1 when readable. */
int osc_net_wait(osc_net *n, int64_t timeout_ns);

/* Reads what has arrived (at most max_packets packets) and hands each to fn; returns how many. */
int osc_net_receive(osc_net *n, osc_packet_fn fn, void *ctx, int max_packets);

/* Sends one packet to a peer (UDP datagram, or framed on its TCP connection); 0 or -1. */
int osc_net_send(osc_net *n, const osc_peer *to, const void *data, size_t len);

/* Fills a UDP peer from a numeric host ("127.0.0.1", "::1"; "localhost" is 127.0.0.1) and port;
 * 0, or -1 with err. Never resolves names (no blocking DNS on the control thread). */
int osc_peer_from_host(const char *host, int port, osc_peer *p, char *err, size_t errlen);

/* "udp:127.0.0.1:57120" or "tcp:...". */
const char *osc_peer_str(const osc_peer *p, char *buf, size_t cap);

/* 1 when both are the same client (address, port and transport). */
int osc_peer_same(const osc_peer *a, const osc_peer *b);

/* 1 when the address is in the allow-list (or the list is empty). */
int osc_allowed(const osc_allow *allow, int nallow, const struct sockaddr_storage *addr);

/* Packets refused by the allow-list so far. */
uint64_t osc_net_refused(const osc_net *n);
