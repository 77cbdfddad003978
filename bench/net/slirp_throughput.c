/*
 * make bench-net (not a test): how fast the slirp backend moves a TCP
 * stream between a fake guest NIC and a socket on 127.0.0.1, each way,
 * with no guest and no NIC in the path: the ceiling the backend (libslirp,
 * its thread, the rx queue) puts on virtio-net. The fake guest is a
 * minimal TCP peer (RFC 793): MSS 1460, a 64 KiB window without scaling,
 * cumulative ACKs, go-back-N when nothing is acknowledged for 300 ms.
 *   bench/net/slirp_throughput [MiB]      (default 64 each way)
 */
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "tests/unit/net_frames.h"
#include "net/net_backend.h"

#define GUEST_IP	IP4(10, 0, 2, 15)
#define GATEWAY_IP	IP4(10, 0, 2, 2)
#define MSS		1460
#define STALL_NS	300000000ll

static const uint8_t gateway_mac[6] = { 0x52, 0x55, 10, 0, 2, 2 };
static uint8_t payload[MSS];

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* sequence-space comparison (RFC 793 3.3) */
static bool seq_after(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

struct host_side {
	int listen_fd, conn_fd;
	uint64_t total, moved;
	bool sending;		/* host -> guest, else it sinks */
	int64_t done_ns;
};

static void *host_thread(void *arg)
{
	struct host_side *h = arg;
	static uint8_t buf[1 << 16];

	h->conn_fd = accept(h->listen_fd, NULL, NULL);
	while (h->conn_fd >= 0 && h->moved < h->total) {
		size_t want = h->total - h->moved < sizeof(buf) ? h->total - h->moved : sizeof(buf);
		ssize_t n = h->sending ? write(h->conn_fd, buf, want) : read(h->conn_fd, buf, want);
		if (n <= 0)
			break;
		h->moved += (uint64_t)n;
	}
	h->done_ns = now_ns();
	return NULL;
}

static int listen_loopback(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

/* The fake guest's end of one connection to 10.0.2.2:port. */
struct conn {
	struct net_backend *be;
	uint16_t port, sport;
	uint32_t snd_una, snd_nxt, rcv_nxt;
	uint16_t wnd;
	uint64_t frames_in, frames_out;
};

static void send_tcp(struct conn *c, uint32_t seq, uint8_t flags, const void *data, size_t len)
{
	uint8_t f[2048];

	net_backend_send(c->be, f, frame_tcp(f, gateway_mac, GUEST_IP, c->sport, GATEWAY_IP,
					      c->port, seq, c->rcv_nxt, flags, data, len));
	c->frames_out++;
}

/* Takes the next frame of this connection (NULL within wait_ms: none). */
static bool next_segment(struct conn *c, struct parsed *p, uint8_t *buf, int wait_ms)
{
	for (;;) {
		const struct net_frame *f = net_backend_rx_peek(c->be);
		if (!f) {
			struct pollfd pfd = { .fd = net_backend_rx_fd(c->be), .events = POLLIN };
			if (poll(&pfd, 1, wait_ms) <= 0)
				return false;
			continue;
		}
		size_t len = f->len;
		memcpy(buf, f->data, len);
		net_backend_rx_pop(c->be);
		if (frame_parse(buf, len, p) && p->proto == 6 && p->sport == c->port &&
		    p->dport == c->sport) {
			c->frames_in++;
			return true;
		}
	}
}

static int handshake(struct conn *c, uint8_t *buf)
{
	uint8_t f[128];
	struct parsed p;

	net_backend_send(c->be, f, frame_arp_request(f, GUEST_IP, GATEWAY_IP));
	c->snd_una = c->snd_nxt = 1000;
	net_backend_send(c->be, f, frame_tcp_syn(f, gateway_mac, GUEST_IP, c->sport, GATEWAY_IP,
						  c->port, c->snd_nxt, MSS));
	do {
		if (!next_segment(c, &p, buf, 3000))
			return -1;
	} while ((p.tcp_flags & (TCP_SYN | TCP_ACK)) != (TCP_SYN | TCP_ACK));
	c->snd_una = c->snd_nxt = p.ack;
	c->rcv_nxt = p.seq + 1;
	c->wnd = p.window;
	send_tcp(c, c->snd_nxt, TCP_ACK, NULL, 0);
	return 0;
}

static void guest_sends(struct conn *c, uint64_t total, uint8_t *buf)
{
	uint32_t end = c->snd_una + (uint32_t)total;
	int64_t progress = now_ns(), start = progress;
	struct parsed p;

	while (c->snd_una != end) {
		if (now_ns() - start > 60 * 1000000000ll) {
			fprintf(stderr, "bench-net: guest->host gave up after 60 s\n");
			return;
		}
		while (c->snd_nxt != end && (uint32_t)(c->snd_nxt - c->snd_una) + MSS <= c->wnd) {
			uint32_t len = end - c->snd_nxt < MSS ? end - c->snd_nxt : MSS;
			send_tcp(c, c->snd_nxt, TCP_ACK | TCP_PSH, payload, len);
			c->snd_nxt += len;
		}
		while (next_segment(c, &p, buf, c->snd_nxt == c->snd_una + c->wnd ? 50 : 0))
			if ((p.tcp_flags & TCP_ACK) && !seq_after(c->snd_una, p.ack)) {
				if (seq_after(p.ack, c->snd_una))
					progress = now_ns();
				c->snd_una = p.ack;
				c->wnd = p.window;
			}
		if (now_ns() - progress > STALL_NS) {
			c->snd_nxt = c->snd_una;	/* go back: resend what is unacknowledged */
			if (!c->wnd)
				c->wnd = MSS;	/* a window probe */
			progress = now_ns();
		}
	}
}

static void guest_receives(struct conn *c, uint64_t total, uint8_t *buf)
{
	uint64_t got = 0;
	unsigned unacked = 0;
	struct parsed p;

	while (got < total) {
		if (!next_segment(c, &p, buf, unacked ? 0 : 1000)) {
			if (!unacked) {
				fprintf(stderr, "bench-net: host->guest stalled at %llu bytes\n",
					(unsigned long long)got);
				return;
			}
			send_tcp(c, c->snd_nxt, TCP_ACK, NULL, 0);
			unacked = 0;
			continue;
		}
		if (p.payload_len && p.seq == c->rcv_nxt) {
			c->rcv_nxt += (uint32_t)p.payload_len;
			got += p.payload_len;
			if (++unacked == 8) {	/* and whenever the queue runs dry */
				send_tcp(c, c->snd_nxt, TCP_ACK, NULL, 0);
				unacked = 0;
			}
		} else if (p.payload_len) {
			send_tcp(c, c->snd_nxt, TCP_ACK, NULL, 0);	/* a duplicate ACK */
		}
	}
	send_tcp(c, c->snd_nxt, TCP_ACK, NULL, 0);
}

static int run(bool host_sends, uint64_t total)
{
	struct net_config cfg;
	char err[256];
	struct host_side h = { .total = total, .sending = host_sends, .conn_fd = -1 };
	struct conn c = { .sport = host_sends ? 41001 : 41000 };
	static uint8_t buf[NET_FRAME_MAX];
	struct net_stats st;
	pthread_t t;

	net_config_parse("user", &cfg, err, sizeof(err));
	if ((h.listen_fd = listen_loopback(&c.port)) < 0 ||
	    !(c.be = net_backend_create(&cfg, err, sizeof(err)))) {
		fprintf(stderr, "bench-net: cannot set up: %s\n", c.be ? "listen" : err);
		return -1;
	}
	pthread_create(&t, NULL, host_thread, &h);
	if (handshake(&c, buf) < 0) {
		fprintf(stderr, "bench-net: no SYN-ACK from slirp\n");
		return -1;
	}
	int64_t t0 = now_ns();
	if (host_sends)
		guest_receives(&c, total, buf);
	else
		guest_sends(&c, total, buf);
	if (host_sends)
		h.done_ns = now_ns();	/* the guest has it all */
	else
		pthread_join(t, NULL);
	double s = (double)(h.done_ns - t0) / 1e9;
	net_backend_stats(c.be, &st);
	printf("%-13s %6.1f MiB in %6.3f s = %7.1f MiB/s; fake guest sent %llu, took %llu frames "
	       "(%.0f/s); rx queue drops %llu\n",
	       host_sends ? "host->guest" : "guest->host", (double)total / (1 << 20), s,
	       (double)total / (1 << 20) / s, (unsigned long long)c.frames_out,
	       (unsigned long long)c.frames_in, (double)(c.frames_in + c.frames_out) / s,
	       (unsigned long long)st.rx_dropped);
	if (h.conn_fd >= 0)
		shutdown(h.conn_fd, SHUT_RDWR);
	if (host_sends)
		pthread_join(t, NULL);
	net_backend_destroy(c.be);
	close(h.listen_fd);
	if (h.conn_fd >= 0)
		close(h.conn_fd);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 64;

	if (!mib || mib > 4000) {
		fprintf(stderr, "usage: slirp_throughput [MiB 1-4000]\n");
		return 2;
	}
	for (unsigned i = 0; i < MSS; i++)
		payload[i] = (uint8_t)i;
	printf("slirp backend, fake guest NIC <-> 127.0.0.1, TCP, MSS %d, 64 KiB window\n", MSS);
	return run(false, mib << 20) < 0 || run(true, mib << 20) < 0;
}
