/* osc_net.c: UDP and TCP sockets for OSC, with the allow-list. */
#include "engine/control/osc_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLIP_END 0xc0
#define SLIP_ESC 0xdb
#define SLIP_ESC_END 0xdc
#define SLIP_ESC_ESC 0xdd
#define MAX_LOGGED 16

struct tcp_conn {
    int fd;                 /* -1: free */
    uint32_t gen;
    osc_peer peer;
    int mode;               /* 0: not known yet, 1: length-prefixed, 2: SLIP */
    uint8_t *buf;           /* OSC_MAX_PACKET + 4 bytes */
    size_t have;
    int slip_esc, slip_overflow;
};

struct osc_net {
    int udp, listen_fd, port;
    osc_allow allow[OSC_NET_MAX_ALLOW];
    int nallow;
    struct tcp_conn tcp[OSC_NET_MAX_TCP];
    uint8_t *rx;            /* OSC_MAX_PACKET bytes */
    uint64_t refused;
    struct sockaddr_storage logged[MAX_LOGGED];
    int nlogged;
};

/* ---- addresses ---- */

/* The address bytes of a socket address (IPv4-mapped IPv6 counts as IPv4). */
static int addr_bytes(const struct sockaddr_storage *a, uint8_t out[16], int *family)
{
    if (a->ss_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)a)->sin_addr, 4);
        *family = AF_INET;
        return 4;
    }
    if (a->ss_family == AF_INET6) {
        const uint8_t *b = ((const struct sockaddr_in6 *)a)->sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (!memcmp(b, mapped, 12)) {
            memcpy(out, b + 12, 4);
            *family = AF_INET;
            return 4;
        }
        memcpy(out, b, 16);
        *family = AF_INET6;
        return 16;
    }
    *family = 0;
    return 0;
}

static int addr_port(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET) return ntohs(((const struct sockaddr_in *)a)->sin_port);
    if (a->ss_family == AF_INET6) return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
    return 0;
}

int osc_allow_parse(const char *text, osc_allow *out, char *err, size_t errlen)
{
    char host[64];
    const char *slash = strchr(text, '/');
    size_t hl = slash ? (size_t)(slash - text) : strlen(text);
    if (hl == 0 || hl >= sizeof host) {
        snprintf(err, errlen, "'%.60s' is not an address (like 192.168.1.20 or 192.168.1.0/24)", text);
        return -1;
    }
    memcpy(host, text, hl);
    host[hl] = 0;
    memset(out, 0, sizeof *out);
    int maxbits;
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->family = AF_INET;
        maxbits = 32;
    } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->family = AF_INET6;
        maxbits = 128;
    } else {
        snprintf(err, errlen, "'%.60s' is not a numeric address (like 192.168.1.20 or 192.168.1.0/24)", text);
        return -1;
    }
    out->bits = maxbits;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || b < 0 || b > maxbits) {
            snprintf(err, errlen, "'%.60s' has a prefix length that is not 0..%d", text, maxbits);
            return -1;
        }
        out->bits = (int)b;
    }
    return 0;
}

int osc_allowed(const osc_allow *allow, int nallow, const struct sockaddr_storage *addr)
{
    if (nallow == 0) return 1;
    uint8_t b[16];
    int fam;
    if (!addr_bytes(addr, b, &fam)) return 0;
    for (int i = 0; i < nallow; i++) {
        if (allow[i].family != fam) continue;
        int bits = allow[i].bits, k = 0, ok = 1;
        for (; bits >= 8; bits -= 8, k++)
            if (b[k] != allow[i].addr[k]) ok = 0;
        if (ok && bits > 0) {
            uint8_t mask = (uint8_t)(0xff << (8 - bits));
            if ((b[k] & mask) != (allow[i].addr[k] & mask)) ok = 0;
        }
        if (ok) return 1;
    }
    return 0;
}

const char *osc_peer_str(const osc_peer *p, char *buf, size_t cap)
{
    uint8_t b[16];
    int fam;
    char host[INET6_ADDRSTRLEN] = "?";
    if (addr_bytes(&p->addr, b, &fam)) inet_ntop(fam, b, host, sizeof host);
    snprintf(buf, cap, fam == AF_INET6 ? "%s:[%s]:%d" : "%s:%s:%d", p->tcp >= 0 ? "tcp" : "udp", host,
             addr_port(&p->addr));
    return buf;
}

int osc_peer_same(const osc_peer *a, const osc_peer *b)
{
    if (a->tcp != b->tcp) return 0;
    if (a->tcp >= 0) return a->gen == b->gen;
    uint8_t x[16], y[16];
    int fx, fy;
    int nx = addr_bytes(&a->addr, x, &fx), ny = addr_bytes(&b->addr, y, &fy);
    return nx && nx == ny && fx == fy && !memcmp(x, y, (size_t)nx) && addr_port(&a->addr) == addr_port(&b->addr);
}

int osc_peer_from_host(const char *host, int port, osc_peer *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->tcp = -1;
    if (port < 1 || port > 65535) {
        snprintf(err, errlen, "the port %d is not 1..65535", port);
        return -1;
    }
    if (!strcmp(host, "localhost")) host = "127.0.0.1";
    struct sockaddr_in *v4 = (struct sockaddr_in *)&p->addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&p->addr;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        p->addrlen = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        p->addrlen = sizeof *v6;
        return 0;
    }
    snprintf(err, errlen, "'%.60s' is not a numeric address (names are not looked up)", host);
    return -1;
}

/* ---- opening ---- */

static int nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL, 0);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int open_socket(const osc_net_opts *o, int type, int port, int *bound_port, char *err, size_t errlen)
{
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = o->bind ? AF_UNSPEC : AF_INET;
    hints.ai_socktype = type;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int rc = getaddrinfo(o->bind, ps, &hints, &ai);
    if (rc != 0 || !ai) {
        snprintf(err, errlen, "'%s' is not a numeric address this machine can bind for OSC", o->bind ? o->bind : "?");
        if (ai) freeaddrinfo(ai);
        return -1;
    }
    int fd = socket(ai->ai_family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open an OSC socket: %s", strerror(errno));
        freeaddrinfo(ai);
        return -1;
    }
    int one = 1;
    if (type == SOCK_STREAM) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) {
        int zero = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        int e = errno;
        if (e == EADDRINUSE)
            snprintf(err, errlen, "the OSC %s port %d is in use (another bandmate?); choose one with --osc-port",
                     type == SOCK_DGRAM ? "UDP" : "TCP", port);
        else
            snprintf(err, errlen, "cannot bind OSC to %s port %d: %s", o->bind ? o->bind : "0.0.0.0", port, strerror(e));
        close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    if (type == SOCK_STREAM && listen(fd, 8) != 0) {
        snprintf(err, errlen, "cannot listen for OSC over TCP: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (type == SOCK_DGRAM) {
        int sz = 1 << 20; /* absorb bursts while a script runs */
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    }
    nonblocking(fd);
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    *bound_port = addr_port(&sa);
    return fd;
}

osc_net *osc_net_open(const osc_net_opts *o, char *err, size_t errlen)
{
    if (o->port < 0 || o->port > 65535) {
        snprintf(err, errlen, "the OSC port %d is not 0..65535", o->port);
        return NULL;
    }
    osc_net *n = calloc(1, sizeof *n);
    if (!n || !(n->rx = malloc(OSC_MAX_PACKET))) {
        free(n);
        snprintf(err, errlen, "out of memory opening OSC");
        return NULL;
    }
    n->listen_fd = -1;
    for (int i = 0; i < OSC_NET_MAX_TCP; i++) n->tcp[i].fd = -1;
    memcpy(n->allow, o->allow, sizeof n->allow);
    n->nallow = o->nallow;
    n->udp = open_socket(o, SOCK_DGRAM, o->port, &n->port, err, errlen);
    if (n->udp < 0) {
        osc_net_close(n);
        return NULL;
    }
    if (o->tcp) {
        int tport;
        n->listen_fd = open_socket(o, SOCK_STREAM, n->port, &tport, err, errlen);
        if (n->listen_fd < 0) {
            osc_net_close(n);
            return NULL;
        }
    }
    return n;
}

static void tcp_close(struct tcp_conn *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->have = 0;
}

void osc_net_close(osc_net *n)
{
    if (!n) return;
    if (n->udp >= 0) close(n->udp);
    if (n->listen_fd >= 0) close(n->listen_fd);
    for (int i = 0; i < OSC_NET_MAX_TCP; i++) tcp_close(&n->tcp[i]);
    free(n->rx);
    free(n);
}

int osc_net_port(const osc_net *n) { return n->port; }

uint64_t osc_net_refused(const osc_net *n) { return n->refused; }

/* ---- receiving ---- */

static void refuse(osc_net *n, const struct sockaddr_storage *from)
{
    n->refused++;
    osc_peer p = {.addr = *from, .addrlen = sizeof *from, .tcp = -1};
    for (int i = 0; i < n->nlogged; i++) {
        osc_peer q = {.addr = n->logged[i], .addrlen = sizeof *from, .tcp = -1};
        uint8_t a[16], b[16];
        int fa, fb;
        int la = addr_bytes(&p.addr, a, &fa), lb = addr_bytes(&q.addr, b, &fb);
        if (la == lb && fa == fb && !memcmp(a, b, (size_t)la)) return;
    }
    if (n->nlogged < MAX_LOGGED) {
        n->logged[n->nlogged++] = *from;
        char s[96];
        fprintf(stderr, "bandmate: ignoring OSC from %s, which is not in the allow-list (--osc-allow).\n",
                osc_peer_str(&p, s, sizeof s));
    }
}

int osc_net_wait(osc_net *n, int64_t timeout_ns)
{
    struct pollfd fds[2 + OSC_NET_MAX_TCP];
    int nf = 0;
    fds[nf++] = (struct pollfd){.fd = n->udp, .events = POLLIN};
    if (n->listen_fd >= 0) fds[nf++] = (struct pollfd){.fd = n->listen_fd, .events = POLLIN};
    for (int i = 0; i < OSC_NET_MAX_TCP; i++)
        if (n->tcp[i].fd >= 0) fds[nf++] = (struct pollfd){.fd = n->tcp[i].fd, .events = POLLIN};
    if (timeout_ns < 0) timeout_ns = 0;
    struct timespec ts = {timeout_ns / 1000000000, timeout_ns % 1000000000};
    int rc = ppoll(fds, (nfds_t)nf, &ts, NULL);
    return rc > 0;
}

static void tcp_accept(osc_net *n)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof sa;
        int fd = accept4(n->listen_fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        if (!osc_allowed(n->allow, n->nallow, &sa)) {
            refuse(n, &sa);
            close(fd);
            continue;
        }
        int slot = -1;
        for (int i = 0; i < OSC_NET_MAX_TCP; i++)
            if (n->tcp[i].fd < 0) {
                slot = i;
                break;
            }
        uint8_t *buf = slot >= 0 ? malloc(OSC_MAX_PACKET + 4) : NULL;
        if (!buf) { /* full: the newest client is turned away */
            close(fd);
            continue;
        }
        struct tcp_conn *c = &n->tcp[slot];
        c->fd = fd;
        c->gen++;
        c->buf = buf;
        c->have = 0;
        c->mode = 0;
        c->slip_esc = c->slip_overflow = 0;
        c->peer = (osc_peer){.addr = sa, .addrlen = len, .tcp = slot, .gen = c->gen};
    }
}

/* Splits a TCP stream into packets; returns how many were delivered, -1 to close the connection. */
static int tcp_feed(struct tcp_conn *c, const uint8_t *in, size_t len, osc_packet_fn fn, void *ctx)
{
    int delivered = 0;
    if (c->mode == 0 && len) c->mode = in[0] == SLIP_END ? 2 : 1;
    if (c->mode == 2) {
        for (size_t i = 0; i < len; i++) {
            uint8_t b = in[i];
            if (b == SLIP_END) {
                if (c->have && !c->slip_overflow) {
                    fn(ctx, c->buf, c->have, &c->peer);
                    delivered++;
                }
                c->have = 0;
                c->slip_overflow = c->slip_esc = 0;
                continue;
            }
            if (b == SLIP_ESC) {
                c->slip_esc = 1;
                continue;
            }
            if (c->slip_esc) {
                b = b == SLIP_ESC_END ? SLIP_END : b == SLIP_ESC_ESC ? SLIP_ESC : b;
                c->slip_esc = 0;
            }
            if (c->have < OSC_MAX_PACKET) c->buf[c->have++] = b;
            else c->slip_overflow = 1; /* too large: dropped at its end */
        }
        return delivered;
    }
    while (len) {
        size_t room = OSC_MAX_PACKET + 4 - c->have, take = len < room ? len : room;
        memcpy(c->buf + c->have, in, take);
        c->have += take;
        in += take;
        len -= take;
        while (c->have >= 4) {
            uint32_t size = (uint32_t)c->buf[0] << 24 | (uint32_t)c->buf[1] << 16 | (uint32_t)c->buf[2] << 8 | c->buf[3];
            if (size == 0 || size > OSC_MAX_PACKET) return -1; /* not OSC, or too large to take */
            if (c->have < 4 + (size_t)size) break;
            fn(ctx, c->buf + 4, size, &c->peer);
            delivered++;
            memmove(c->buf, c->buf + 4 + size, c->have - 4 - size);
            c->have -= 4 + size;
        }
    }
    return delivered;
}

int osc_net_receive(osc_net *n, osc_packet_fn fn, void *ctx, int max_packets)
{
    int got = 0;
    while (got < max_packets) {
        osc_peer p;
        memset(&p, 0, sizeof p);
        p.tcp = -1;
        p.addrlen = sizeof p.addr;
        ssize_t r = recvfrom(n->udp, n->rx, OSC_MAX_PACKET, MSG_DONTWAIT | MSG_TRUNC,
                             (struct sockaddr *)&p.addr, &p.addrlen);
        if (r < 0) break;
        if (!osc_allowed(n->allow, n->nallow, &p.addr)) {
            refuse(n, &p.addr);
            continue;
        }
        if (r > OSC_MAX_PACKET) continue; /* truncated by the kernel: not a whole packet */
        fn(ctx, n->rx, (size_t)r, &p);
        got++;
    }
    if (n->listen_fd >= 0) {
        tcp_accept(n);
        for (int i = 0; i < OSC_NET_MAX_TCP && got < max_packets; i++) {
            struct tcp_conn *c = &n->tcp[i];
            for (int reads = 0; c->fd >= 0 && reads < 16; reads++) {
                ssize_t r = recv(c->fd, n->rx, OSC_MAX_PACKET, MSG_DONTWAIT);
                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                    tcp_close(c);
                    break;
                }
                if (r < 0) break;
                int d = tcp_feed(c, n->rx, (size_t)r, fn, ctx);
                if (d < 0) {
                    tcp_close(c);
                    break;
                }
                got += d;
            }
        }
    }
    return got;
}

/* ---- sending ---- */

int osc_net_send(osc_net *n, const osc_peer *to, const void *data, size_t len)
{
    if (!n || !to || len > OSC_MAX_PACKET) return -1;
    if (to->tcp < 0) {
        ssize_t w = sendto(n->udp, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)&to->addr,
                           to->addrlen);
        return w == (ssize_t)len ? 0 : -1;
    }
    if (to->tcp >= OSC_NET_MAX_TCP) return -1;
    struct tcp_conn *c = &n->tcp[to->tcp];
    if (c->fd < 0 || c->gen != to->gen) return -1;
    uint8_t frame[2 * OSC_MAX_PACKET + 8];
    size_t fl = 0;
    if (c->mode == 2) {
        const uint8_t *d = data;
        frame[fl++] = SLIP_END;
        for (size_t i = 0; i < len; i++) {
            if (d[i] == SLIP_END) frame[fl++] = SLIP_ESC, frame[fl++] = SLIP_ESC_END;
            else if (d[i] == SLIP_ESC) frame[fl++] = SLIP_ESC, frame[fl++] = SLIP_ESC_ESC;
            else frame[fl++] = d[i];
        }
        frame[fl++] = SLIP_END;
    } else {
        frame[0] = (uint8_t)(len >> 24);
        frame[1] = (uint8_t)(len >> 16);
        frame[2] = (uint8_t)(len >> 8);
        frame[3] = (uint8_t)len;
        memcpy(frame + 4, data, len);
        fl = len + 4;
    }
    ssize_t w = send(c->fd, frame, fl, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w != (ssize_t)fl) { /* a client that does not keep up is let go, never waited for */
        tcp_close(c);
        return -1;
    }
    return 0;
}
