// SPDX-License-Identifier: Apache-2.0
/* Haversine distances and Vivaldi coordinates. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "oak/scheduler.h"

static const struct oak_geo_point munich = {48.1351, 11.5820, true};
static const struct oak_geo_point berlin = {52.5200, 13.4050, true};
static const struct oak_geo_point paris = {48.8566, 2.3522, true};
static const struct oak_geo_point madrid = {40.4168, -3.7038, true};

static void assert_within_pct(double got, double want, double pct)
{
	double rel = fabs(got - want) / want * 100.0;

	if (rel > pct)
		fail_msg("got %.2f, want %.2f (+-%.1f%%)", got, want, pct);
}

static void test_haversine_known_distances(void **state)
{
	(void)state;
	/* published great-circle distances between city centres */
	assert_within_pct(oak_geo_distance_km(&munich, &berlin), 504.0, 1.0);
	assert_within_pct(oak_geo_distance_km(&berlin, &paris), 878.0, 1.0);
	assert_within_pct(oak_geo_distance_km(&munich, &paris), 685.0, 1.0);
	assert_within_pct(oak_geo_distance_km(&paris, &madrid), 1053.0, 1.0);
	/* symmetric, zero on itself */
	assert_true(fabs(oak_geo_distance_km(&munich, &berlin) -
			 oak_geo_distance_km(&berlin, &munich)) < 1e-9);
	assert_true(oak_geo_distance_km(&paris, &paris) < 1e-9);
}

static void test_haversine_extremes(void **state)
{
	struct oak_geo_point a = {0.0, 0.0, true}, b = {0.0, 180.0, true};
	struct oak_geo_point n = {90.0, 0.0, true}, s = {-90.0, 45.0, true};

	(void)state;
	assert_within_pct(oak_geo_distance_km(&a, &b), M_PI * OAK_GEO_EARTH_RADIUS_KM, 0.01);
	assert_within_pct(oak_geo_distance_km(&n, &s), M_PI * OAK_GEO_EARTH_RADIUS_KM, 0.01);
	/* one degree of longitude on the equator */
	b.lon = 1.0;
	assert_within_pct(oak_geo_distance_km(&a, &b), 111.195, 0.01);
}

static void test_vivaldi_distance_includes_heights(void **state)
{
	struct oak_vivaldi a, b;

	(void)state;
	oak_vivaldi_init(&a, 1);
	oak_vivaldi_init(&b, 2);
	a.x = 3.0;
	a.y = 0.0;
	a.h = 1.0;
	b.x = 0.0;
	b.y = 4.0;
	b.h = 2.0;
	assert_true(fabs(oak_vivaldi_distance(&a, &b) - 8.0) < 1e-12);
	assert_true(fabs(oak_vivaldi_distance(&b, &a) - 8.0) < 1e-12);
}

static void test_vivaldi_rejects_bad_rtt(void **state)
{
	struct oak_vivaldi a, b, before;

	(void)state;
	oak_vivaldi_init(&a, 1);
	oak_vivaldi_init(&b, 2);
	before = a;
	assert_int_equal(oak_vivaldi_update(&a, &b, 0.0), -EINVAL);
	assert_int_equal(oak_vivaldi_update(&a, &b, -3.0), -EINVAL);
	assert_int_equal(oak_vivaldi_update(&a, &b, NAN), -EINVAL);
	assert_int_equal(oak_vivaldi_update(&a, &b, INFINITY), -EINVAL);
	assert_memory_equal(&a, &before, sizeof(a));
}

static void test_vivaldi_coincident_nodes_separate(void **state)
{
	struct oak_vivaldi a, b;

	(void)state;
	oak_vivaldi_init(&a, 11);
	oak_vivaldi_init(&b, 22);
	assert_int_equal(oak_vivaldi_update(&a, &b, 20.0), 0);
	/* a moved away from the origin by about cc * w * rtt = 0.25 * 0.5 * 20 */
	assert_true(hypot(a.x, a.y) > 2.0);
	assert_true(oak_vivaldi_distance(&a, &b) > 2.0);
}

/*
 * Four nodes whose RTTs are exactly a plane distance plus heights: from a
 * start where every prediction is off by ~100%, Vivaldi must reach an
 * embedding that predicts every RTT within 10% (mean under 6%), with low
 * error estimates.
 */
static void test_vivaldi_converges_on_4_nodes(void **state)
{
	static const double px[4] = {0, 40, 0, 40}, py[4] = {0, 0, 30, 30};
	static const double ph[4] = {1.0, 2.0, 1.5, 3.0};
	double rtt[4][4];
	struct oak_vivaldi c[4];
	double initial_err = 0.0, final_err = 0.0, rel_sum = 0.0;

	(void)state;
	for (int i = 0; i < 4; i++) {
		oak_vivaldi_init(&c[i], 1000 + i);
		for (int j = 0; j < 4; j++)
			rtt[i][j] = hypot(px[i] - px[j], py[i] - py[j]) + ph[i] + ph[j];
	}
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			initial_err += fabs(oak_vivaldi_distance(&c[i], &c[j]) - rtt[i][j]);

	for (int round = 0; round < 400; round++)
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < 4; j++)
				if (i != j)
					assert_int_equal(
					    oak_vivaldi_update(&c[i], &c[j], rtt[i][j]), 0);

	for (int i = 0; i < 4; i++) {
		for (int j = i + 1; j < 4; j++) {
			double got = oak_vivaldi_distance(&c[i], &c[j]);

			final_err += fabs(got - rtt[i][j]);
			rel_sum += fabs(got - rtt[i][j]) / rtt[i][j];
			assert_within_pct(got, rtt[i][j], 10.0);
		}
		assert_true(c[i].err < 0.1);
		assert_true(c[i].h >= OAK_VIVALDI_MIN_HEIGHT);
	}
	assert_true(rel_sum / 6.0 < 0.06);
	assert_true(final_err < initial_err / 10.0);
}

/*
 * Five hosts behind slow access links around a small core: RTT is mostly
 * h_i + h_j. Five mutually near-equidistant points do not fit in a plane,
 * so only the heights can explain these RTTs.
 */
static void test_vivaldi_learns_heights(void **state)
{
	static const double ph[5] = {10.0, 12.0, 8.0, 15.0, 11.0};
	struct oak_vivaldi c[5];
	double rtt[5][5];

	(void)state;
	for (int i = 0; i < 5; i++) {
		oak_vivaldi_init(&c[i], 77 + i);
		for (int j = 0; j < 5; j++)
			rtt[i][j] = ph[i] + ph[j] + (i == j ? 0.0 : 1.0);
	}
	for (int round = 0; round < 400; round++)
		for (int i = 0; i < 5; i++)
			for (int j = 0; j < 5; j++)
				if (i != j)
					assert_int_equal(
					    oak_vivaldi_update(&c[i], &c[j], rtt[i][j]), 0);
	for (int i = 0; i < 5; i++) {
		for (int j = i + 1; j < 5; j++)
			assert_within_pct(oak_vivaldi_distance(&c[i], &c[j]), rtt[i][j], 5.0);
		assert_true(c[i].h > 3.0);
	}
}

/* Same seeds and measurements give bit-identical coordinates. */
static void test_vivaldi_deterministic(void **state)
{
	struct oak_vivaldi a1, b1, a2, b2;

	(void)state;
	oak_vivaldi_init(&a1, 5);
	oak_vivaldi_init(&b1, 6);
	oak_vivaldi_init(&a2, 5);
	oak_vivaldi_init(&b2, 6);
	for (int i = 0; i < 50; i++) {
		double r = 10.0 + (i % 7);

		oak_vivaldi_update(&a1, &b1, r);
		oak_vivaldi_update(&b1, &a1, r);
		oak_vivaldi_update(&a2, &b2, r);
		oak_vivaldi_update(&b2, &a2, r);
	}
	assert_memory_equal(&a1, &a2, sizeof(a1));
	assert_memory_equal(&b1, &b2, sizeof(b1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_haversine_known_distances),
	    cmocka_unit_test(test_haversine_extremes),
	    cmocka_unit_test(test_vivaldi_distance_includes_heights),
	    cmocka_unit_test(test_vivaldi_rejects_bad_rtt),
	    cmocka_unit_test(test_vivaldi_coincident_nodes_separate),
	    cmocka_unit_test(test_vivaldi_converges_on_4_nodes),
	    cmocka_unit_test(test_vivaldi_learns_heights),
	    cmocka_unit_test(test_vivaldi_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
