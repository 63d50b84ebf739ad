// SPDX-License-Identifier: Apache-2.0
/*
 * Vivaldi network coordinates (Dabek, Cox, Kaashoek, Morris, SIGCOMM 2004):
 * 2D Euclidean plane plus a height for the access link, adaptive timestep.
 */
#include <errno.h>
#include <math.h>

#include "oak/scheduler.h"

/* below this planar separation two coordinates count as coincident (ms) */
#define COINCIDENT_MS 1e-9
/* distance of a fresh coordinate from the origin (ms) */
#define INIT_RADIUS_MS 0.1

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static double unit_angle(uint64_t r)
{
	return (double)(r >> 11) * 0x1.0p-53 * 2.0 * M_PI;
}

void oak_vivaldi_init(struct oak_vivaldi *c, uint64_t seed)
{
	/*
	 * Start near, not at, the origin: if every node started at one point
	 * the first push would fix a single direction for all later ones and
	 * the embedding would stay on a line.
	 */
	double angle = unit_angle(splitmix64(seed));

	c->x = INIT_RADIUS_MS * cos(angle);
	c->y = INIT_RADIUS_MS * sin(angle);
	c->h = OAK_VIVALDI_MIN_HEIGHT;
	c->err = 1.0;
	c->seed = seed;
	c->updates = 0;
}

double oak_vivaldi_distance(const struct oak_vivaldi *a, const struct oak_vivaldi *b)
{
	return hypot(a->x - b->x, a->y - b->y) + a->h + b->h;
}

int oak_vivaldi_update(struct oak_vivaldi *self, const struct oak_vivaldi *peer, double rtt_ms)
{
	double dist, w, es, force, dx, dy, plane, px, py, ph, peer_err;

	if (!isfinite(rtt_ms) || rtt_ms <= 0.0)
		return -EINVAL;

	dist = oak_vivaldi_distance(self, peer);
	peer_err = isfinite(peer->err) && peer->err > 0.0 ? peer->err : OAK_VIVALDI_MAX_ERR;
	/* sample weight: trust the measurement more when we are less sure than the peer */
	w = self->err / (self->err + peer_err);
	es = fabs(dist - rtt_ms) / rtt_ms;
	self->err = es * OAK_VIVALDI_CE * w + self->err * (1.0 - OAK_VIVALDI_CE * w);
	if (self->err > OAK_VIVALDI_MAX_ERR)
		self->err = OAK_VIVALDI_MAX_ERR;
	if (self->err < 1e-6)
		self->err = 1e-6;

	/* adaptive timestep; a spring of rest length rtt along the height vector */
	force = OAK_VIVALDI_CC * w * (rtt_ms - dist);
	dx = self->x - peer->x;
	dy = self->y - peer->y;
	plane = hypot(dx, dy);
	if (plane > COINCIDENT_MS) {
		px = dx / dist;
		py = dy / dist;
		ph = (self->h + peer->h) / dist;
	} else {
		/* coincident: a direction that differs per node and per step */
		uint64_t r = splitmix64(self->seed ^ splitmix64(self->updates));
		double angle = unit_angle(r);

		/* push apart in the plane only: heights grow from real error, not ties */
		px = cos(angle);
		py = sin(angle);
		ph = 0.0;
	}

	self->x += force * px;
	self->y += force * py;
	self->h += force * ph;
	if (!(self->h >= OAK_VIVALDI_MIN_HEIGHT))
		self->h = OAK_VIVALDI_MIN_HEIGHT;
	self->updates++;
	return 0;
}
