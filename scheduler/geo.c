// SPDX-License-Identifier: Apache-2.0
/* Great-circle distance (haversine). */
#include <math.h>

#include "oak/scheduler.h"

#define DEG2RAD (M_PI / 180.0)

double oak_geo_distance_km(const struct oak_geo_point *a, const struct oak_geo_point *b)
{
	double lat1 = a->lat * DEG2RAD;
	double lat2 = b->lat * DEG2RAD;
	double s_lat = sin((lat2 - lat1) / 2.0);
	double s_lon = sin((b->lon - a->lon) * DEG2RAD / 2.0);
	double h = s_lat * s_lat + cos(lat1) * cos(lat2) * s_lon * s_lon;

	/* rounding can push h a hair past 1 for antipodal points */
	if (h > 1.0)
		h = 1.0;
	return 2.0 * OAK_GEO_EARTH_RADIUS_KM * asin(sqrt(h));
}
