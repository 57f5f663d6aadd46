// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The number formats of the text report, the diff and the flamegraph's tooltips. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

const char *units__grouped(int64_t v, char *buf, size_t size)
{
	char digits[32];
	size_t n, i, o = 0;

	snprintf(digits, sizeof(digits), "%" PRIu64, v < 0 ? -(uint64_t)v : (uint64_t)v);
	n = strlen(digits);
	if (v < 0 && o < size - 1)
		buf[o++] = '-';
	for (i = 0; i < n && o < size - 1; i++) {
		if (i && (n - i) % 3 == 0 && o < size - 1)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

const char *units__human(double bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = bytes < 0 ? -bytes : bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%s%.1f %s" : "%s%.0f %s", bytes < 0 ? "-" : "", v, units[u]);
	return buf;
}
