// SPDX-License-Identifier: MIT
/* Peer-node latency probes and the node's Vivaldi coordinate (see probe.h). */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <oak/scheduler.h>

static const uint8_t magic[4] = {0xa5, 'o', 'a', 'k'};
#define PROBE_VERSION 1

struct oak_peer {
	uint32_t ip; /* network order */
	uint32_t samples[OAK_PROBE_SAMPLES];
	size_t n_samples, head;
	uint32_t rtt_us;
	uint32_t seq;	 /* of the last probe sent */
	bool answered;	 /* the last probe got its reply */
	unsigned missed; /* probes unanswered in a row */
	int64_t sent_ms; /* 0: never probed */
	bool lost;	 /* OAK_PROBE_LOST probes unanswered in a row */
	bool wanted;
};

struct oak_probe {
	int fd;
	uint32_t self_ip;
	uint32_t seq;
	struct oak_peer *peers;
	size_t n, cap;
	struct oak_vivaldi self;
	bool coord_set;
};

/* ------------------------------------------------------------ codec */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ms as signed µs, clamped to what 32 bits hold */
static uint32_t ms_to_wire(double ms)
{
	double us = ms * 1000.0;

	if (!isfinite(us))
		us = 0;
	if (us > INT32_MAX)
		us = INT32_MAX;
	if (us < INT32_MIN)
		us = INT32_MIN;
	return (uint32_t)(int32_t)lround(us);
}

static double wire_to_ms(uint32_t v)
{
	return (double)(int32_t)v / 1000.0;
}

void oak_probe_encode(const struct oak_probe_msg *m, uint8_t out[OAK_PROBE_LEN])
{
	double err = isfinite(m->coord.err) && m->coord.err > 0 ? m->coord.err : 0;

	memset(out, 0, OAK_PROBE_LEN);
	memcpy(out, magic, 4);
	out[4] = PROBE_VERSION;
	out[5] = m->type;
	put32(out + 8, m->seq);
	put32(out + 16, (uint32_t)(m->sent_ns >> 32));
	put32(out + 20, (uint32_t)m->sent_ns);
	put32(out + 24, ms_to_wire(m->coord.x));
	put32(out + 28, ms_to_wire(m->coord.y));
	put32(out + 32, ms_to_wire(m->coord.h));
	put32(out + 36, err > 4000.0 ? UINT32_MAX : (uint32_t)lround(err * 1e6));
}

int oak_probe_decode(const uint8_t *buf, size_t len, struct oak_probe_msg *m)
{
	if (len < OAK_PROBE_LEN || memcmp(buf, magic, 4) || buf[4] != PROBE_VERSION ||
	    (buf[5] != OAK_PROBE_REQUEST && buf[5] != OAK_PROBE_REPLY))
		return -1;
	m->type = buf[5];
	m->seq = get32(buf + 8);
	m->sent_ns = (uint64_t)get32(buf + 16) << 32 | get32(buf + 20);
	m->coord.x = wire_to_ms(get32(buf + 24));
	m->coord.y = wire_to_ms(get32(buf + 28));
	m->coord.h = wire_to_ms(get32(buf + 32));
	m->coord.err = (double)get32(buf + 36) / 1e6;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t oak_probe_median(const uint32_t *samples, size_t n)
{
	uint32_t s[OAK_PROBE_SAMPLES];

	if (!n)
		return 0;
	if (n > OAK_PROBE_SAMPLES)
		n = OAK_PROBE_SAMPLES;
	memcpy(s, samples, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u32);
	/* lower median for an even count: a late sample never raises it alone */
	return s[(n - 1) / 2];
}

uint32_t oak_probe_latency_next(uint32_t cur, uint32_t rtt, uint32_t res)
{
	uint64_t band, q;

	if (!res)
		res = 1;
	if (!rtt)
		return 0;
	if (cur >= res && cur % res == 0) {
		band = res / 4 > cur / 8 ? res / 4 : cur / 8;
		if ((uint64_t)rtt + res + band > cur && rtt <= cur + band)
			return cur;
	}
	q = ((uint64_t)rtt + res - 1) / res * res;
	return q > UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)q;
}

/* ------------------------------------------------------------ peers */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct oak_probe *oak_probe_new(uint32_t self_ip, uint64_t seed)
{
	struct oak_probe *p = calloc(1, sizeof(*p));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(OAK_PROBE_PORT)};
	int one = 1, e;

	if (!p)
		return NULL;
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		goto fail;
	/* a restarted agent binds while its predecessor's socket may linger */
	setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = self_ip;
	if (bind(p->fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail;
	p->self_ip = self_ip;
	p->seq = (uint32_t)seed;
	oak_vivaldi_init(&p->self, seed);
	return p;
fail:
	e = errno;
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	errno = e;
	return NULL;
}

void oak_probe_free(struct oak_probe *p)
{
	if (!p)
		return;
	close(p->fd);
	free(p->peers);
	free(p);
}

int oak_probe_fd(const struct oak_probe *p)
{
	return p->fd;
}

static struct oak_peer *peer_find(const struct oak_probe *p, uint32_t ip)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->peers[i].ip == ip)
			return &p->peers[i];
	return NULL;
}

void oak_probe_want_begin(struct oak_probe *p)
{
	for (size_t i = 0; i < p->n; i++)
		p->peers[i].wanted = false;
}

void oak_probe_want(struct oak_probe *p, uint32_t ip)
{
	struct oak_peer *e = peer_find(p, ip);

	if (!ip || ip == p->self_ip)
		return;
	if (e) {
		e->wanted = true;
		return;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct oak_peer *np = realloc(p->peers, cap * sizeof(*np));

		if (!np)
			return; /* probed once memory allows */
		p->peers = np;
		p->cap = cap;
	}
	e = &p->peers[p->n++];
	memset(e, 0, sizeof(*e));
	e->ip = ip;
	e->wanted = true;
	e->answered = true; /* nothing outstanding */
}

void oak_probe_want_end(struct oak_probe *p)
{
	size_t k = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->peers[i].wanted)
			p->peers[k++] = p->peers[i];
	p->n = k;
}

static void send_msg(struct oak_probe *p, uint32_t ip, const struct oak_probe_msg *m)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(OAK_PROBE_PORT)};
	uint8_t buf[OAK_PROBE_LEN];

	sa.sin_addr.s_addr = ip;
	oak_probe_encode(m, buf);
	/* a full socket buffer or no route: this round is lost, the next retries */
	(void)sendto(p->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa));
}

static void own_coord(const struct oak_probe *p, struct oak_probe_coord *c)
{
	c->x = p->self.x;
	c->y = p->self.y;
	c->h = p->self.h;
	c->err = p->self.err;
}

void oak_probe_send_due(struct oak_probe *p, int64_t now_ms, int64_t interval_ms)
{
	for (size_t i = 0; i < p->n; i++) {
		struct oak_peer *e = &p->peers[i];
		struct oak_probe_msg m = {.type = OAK_PROBE_REQUEST};

		if (e->sent_ms && now_ms - e->sent_ms < interval_ms)
			continue;
		if (!e->answered && ++e->missed >= OAK_PROBE_LOST) {
			e->rtt_us = 0;
			e->lost = true;
			e->n_samples = e->head = 0; /* a peer that comes back starts afresh */
		}
		m.seq = ++p->seq;
		m.sent_ns = mono_ns();
		own_coord(p, &m.coord);
		e->seq = m.seq;
		e->answered = false;
		e->sent_ms = now_ms;
		send_msg(p, e->ip, &m);
	}
}

static bool take_sample(struct oak_probe *p, uint32_t from, const struct oak_probe_msg *m)
{
	struct oak_peer *e = peer_find(p, from);
	uint64_t now = mono_ns(), rtt_ns;
	struct oak_vivaldi peer = {0};
	uint32_t us;

	/* only the reply to the outstanding probe: a late one would mix rounds */
	if (!e || e->answered || m->seq != e->seq || m->sent_ns > now)
		return false;
	rtt_ns = now - m->sent_ns;
	us = rtt_ns / 1000 >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)(rtt_ns / 1000);
	if (!us)
		us = 1;
	e->answered = true;
	e->missed = 0;
	e->lost = false;
	e->samples[e->head] = us;
	e->head = (e->head + 1) % OAK_PROBE_SAMPLES;
	if (e->n_samples < OAK_PROBE_SAMPLES)
		e->n_samples++;
	/* from two samples on: the first often waited for ARP */
	if (e->n_samples < 2)
		return true;
	e->rtt_us = oak_probe_median(e->samples, e->n_samples);

	peer.x = m->coord.x;
	peer.y = m->coord.y;
	peer.h = m->coord.h > OAK_VIVALDI_MIN_HEIGHT ? m->coord.h : OAK_VIVALDI_MIN_HEIGHT;
	peer.err = m->coord.err;
	if (oak_vivaldi_update(&p->self, &peer, (double)e->rtt_us / 1000.0) == 0)
		p->coord_set = true;
	return true;
}

int oak_probe_recv(struct oak_probe *p)
{
	uint8_t buf[256];
	struct sockaddr_in from;
	socklen_t fl;
	ssize_t len;
	int samples = 0, guard = 0;

	while (guard++ < 1024) {
		struct oak_probe_msg m;

		fl = sizeof(from);
		len =
		    recvfrom(p->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (len < 0)
			break;
		if (fl < sizeof(from) || oak_probe_decode(buf, (size_t)len, &m))
			continue;
		if (m.type == OAK_PROBE_REQUEST) {
			m.type = OAK_PROBE_REPLY;
			own_coord(p, &m.coord);
			send_msg(p, from.sin_addr.s_addr, &m);
		} else {
			samples += take_sample(p, from.sin_addr.s_addr, &m);
		}
	}
	return samples;
}

uint32_t oak_probe_rtt_us(const struct oak_probe *p, uint32_t ip, enum oak_peer_state *state)
{
	const struct oak_peer *e = peer_find(p, ip);
	enum oak_peer_state s = OAK_PEER_UNKNOWN;

	if (e && e->rtt_us)
		s = OAK_PEER_OK;
	else if (e && e->lost)
		s = OAK_PEER_LOST;
	if (state)
		*state = s;
	return s == OAK_PEER_OK ? e->rtt_us : 0;
}

bool oak_probe_coord(const struct oak_probe *p, struct oak_probe_coord *out)
{
	own_coord(p, out);
	return p->coord_set;
}

bool oak_probe_peer_at(const struct oak_probe *p, size_t i, uint32_t *ip, uint32_t *rtt_us,
		       enum oak_peer_state *state)
{
	if (i >= p->n)
		return false;
	*ip = p->peers[i].ip;
	*rtt_us = oak_probe_rtt_us(p, *ip, state);
	return true;
}
