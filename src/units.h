/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Numbers as people read them: exact bytes grouped by thousands, sizes in KiB and MiB. */
#ifndef LT_UNITS_H
#define LT_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* 1234567 -> "1,234,567". Returns buf. */
const char *units__grouped(int64_t v, char *buf, size_t size);
/* 1234567 -> "1.2 MiB", 100 -> "100 B" (powers of 1024). Returns buf. */
const char *units__human(double bytes, char *buf, size_t size);

#endif
